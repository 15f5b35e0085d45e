"""WebSocket routing. Origins are checked against an exact allowlist
(scheme, host and port); refusals are logged with the origin."""

from __future__ import annotations

import logging
from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.urls import path

from facilitation.consumers import RoomConsumer

log = logging.getLogger("hearth.security")

websocket_urlpatterns = [
    path("ws/sessions/<int:meeting_id>/", RoomConsumer.as_asgi()),
]


class LoggingOriginValidator(OriginValidator):
    def valid_origin(self, parsed_origin: Any) -> bool:
        try:
            ok = bool(super().valid_origin(parsed_origin))
        except ValueError:  # e.g. a port that is not a number
            ok = False
        if not ok:
            shown = parsed_origin.geturl()[:100] if parsed_origin else "(none)"
            log.warning("websocket refused reason=origin origin=%s", shown)
        return ok


websocket_application = LoggingOriginValidator(
    AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    settings.TRUSTED_ORIGINS,
)
