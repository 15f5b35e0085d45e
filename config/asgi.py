"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import gc
import os

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

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": websocket_application,
    }
)
