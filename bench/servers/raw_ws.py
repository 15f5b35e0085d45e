"""The limit, part one: a minimal broadcast server on the raw `websockets`
library. Every text frame a client sends is written unchanged to every
socket of the same path (one room per path), the sender included.

Run: python -m bench.servers.raw_ws PORT
"""

from __future__ import annotations

import asyncio
import sys
from collections import defaultdict

from websockets.asyncio.server import ServerConnection, broadcast, serve

rooms: defaultdict[str, set[ServerConnection]] = defaultdict(set)


async def handle(socket: ServerConnection) -> None:
    path = socket.request.path if socket.request else "/"
    members = rooms[path]
    members.add(socket)
    try:
        async for message in socket:
            if isinstance(message, str):
                broadcast(members, message)
    finally:
        members.discard(socket)


async def main(port: int) -> None:
    # Compression off, as for every server in the benchmark; no size cap
    # beyond the library default (1 MiB).
    async with serve(handle, "127.0.0.1", port, compression=None, backlog=2048):
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
