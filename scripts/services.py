"""Tell whether PostgreSQL and Redis answer at the given URLs.

`python scripts/services.py check PG_URL REDIS_URL` exits 0 when both answer.
"""

from __future__ import annotations

import socket
import sys
from urllib.parse import urlparse


def reachable(url: str, default_port: int) -> bool:
    parts = urlparse(url)
    host = parts.hostname or "127.0.0.1"
    try:
        with socket.create_connection((host, parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[1] != "check":
        print(__doc__, file=sys.stderr)  # noqa: T201
        return 2
    ok = reachable(argv[2], 5432) and reachable(argv[3], 6379)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
