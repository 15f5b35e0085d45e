"""The peer: what a developer following the Channels tutorial would build.

One `AsyncWebsocketConsumer` per socket; every received frame is decoded,
handed to the room's group with one `group_send`, and each member's
consumer encodes and sends it. Same channel layer as the product
(channels_redis on the same Redis, another database number, the product's
capacity). No authentication and no storage: it is the cheapest thing a
developer would call a chat room.

Run: DJANGO_SETTINGS_MODULE=bench.servers.tutorial BENCH_CHANNELS_URL=redis://...
     uvicorn bench.servers.tutorial:application
"""

from __future__ import annotations

import json
import os
from typing import Any

SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
USE_TZ = True
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [os.environ.get("BENCH_CHANNELS_URL", "redis://127.0.0.1:6379/9")],
            "capacity": 200,
            "expiry": 60,
        },
    }
}

if os.environ.get("DJANGO_SETTINGS_MODULE") == __name__:
    import django

    django.setup()

    from channels.generic.websocket import AsyncWebsocketConsumer
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.urls import re_path

    class ChatConsumer(AsyncWebsocketConsumer):
        room: str

        async def connect(self) -> None:
            self.room = "chat_" + self.scope["url_route"]["kwargs"]["room"]
            await self.channel_layer.group_add(self.room, self.channel_name)
            await self.accept()

        async def disconnect(self, code: int) -> None:
            await self.channel_layer.group_discard(self.room, self.channel_name)

        async def receive(
            self, text_data: str | None = None, bytes_data: bytes | None = None
        ) -> None:
            if text_data is None:
                return
            data = json.loads(text_data)
            await self.channel_layer.group_send(
                self.room, {"type": "chat.message", "message": data.get("text", "")}
            )

        async def chat_message(self, event: dict[str, Any]) -> None:
            await self.send(text_data=json.dumps({"message": event["message"]}))

    application = ProtocolTypeRouter(
        {
            "websocket": URLRouter(
                [re_path(r"^ws/chat/(?P<room>[\w.-]+)/$", ChatConsumer.as_asgi())]
            )
        }
    )
