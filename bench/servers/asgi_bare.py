"""The limit, part two: a bare ASGI broadcast app, served by the same ASGI
server as the product (uvicorn). No framework: each text frame is sent
unchanged to every socket of the same path, the sender included.

Run: uvicorn bench.servers.asgi_bare:app
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

rooms: defaultdict[str, dict[int, Send]] = defaultdict(dict)


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    members = rooms[scope["path"]]
    key = id(send)
    try:
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.connect":
                await send({"type": "websocket.accept"})
                members[key] = send
            elif kind == "websocket.receive":
                text = message.get("text")
                if text is None:
                    continue
                out = {"type": "websocket.send", "text": text}
                for member in list(members.values()):
                    try:
                        await member(out)
                    except Exception:  # a member that just left
                        continue
            elif kind == "websocket.disconnect":
                return
    finally:
        members.pop(key, None)
