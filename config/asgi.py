"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import gc
import os
import sys

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from config.routing import websocket_application  # noqa: E402
from safety import screening  # noqa: E402

# Build the screener's tables before the first message rather than on it,
# then move everything loaded so far out of the collector's way: a full
# collection over Django's start-up objects takes 50-100 ms, a pause that
# would land on whichever socket or request is unlucky.
screening.warm_up()
gc.collect()
gc.freeze()

# Database calls run on worker threads while the event loop writes to
# sockets. A thread back from PostgreSQL waits for the loop to give up the
# interpreter lock, by default up to 5 ms, and it may be holding a room's
# row lock meanwhile; in a burst (a hundred reactions in a second) those
# waits queued every other writer of the room behind it. Switching sooner
# keeps row locks short.
sys.setswitchinterval(0.0005)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": websocket_application,
    }
)
