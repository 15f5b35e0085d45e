"""WebSocket routing. Origins are checked against an exact allowlist."""

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import OriginValidator
from django.conf import settings

websocket_urlpatterns: list = []

websocket_application = OriginValidator(
    AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    settings.TRUSTED_ORIGINS,
)
