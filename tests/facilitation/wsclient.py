"""A real WebSocket client for tests against running servers: a reader
task keeps every frame, in order, and waits are bounded."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any


class Peer:
    """A real WebSocket client; a reader task keeps every frame in order."""

    def __init__(self, name: str, ws: Any) -> None:
        self.name = name
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for text in self.ws:
                frame = json.loads(text)
                # An `events` frame carries several events, in order.
                self.frames.extend(
                    frame["events"] if frame.get("type") == "events" else [frame]
                )
                self._arrived.set()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self._arrived.set()

    async def wait(
        self,
        match: Callable[[dict[str, Any]], bool],
        start: int = 0,
        timeout: float = 5,
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        index = start
        while True:
            while index < len(self.frames):
                if match(self.frames[index]):
                    return self.frames[index]
                index += 1
            if self.close_code is not None:
                raise AssertionError(f"{self.name} closed {self.close_code}")
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"{self.name}: no match in {self.frames[start:]}")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)

    async def request(self, frame: dict[str, Any], timeout: float = 5) -> dict:
        mark = len(self.frames)
        await self.ws.send(json.dumps(frame))
        return await self.wait(lambda f: f["type"] in ("ack", "error"), mark, timeout)

    async def ok(self, frame: dict[str, Any]) -> dict[str, Any]:
        reply = await self.request(frame)
        assert reply["type"] == "ack", (self.name, reply)
        return reply

    async def join(self) -> dict[str, Any]:
        mark = len(self.frames)
        await self.ws.send(json.dumps({"type": "join"}))
        return await self.wait(lambda f: f["type"] == "snapshot", mark)

    def events_after(self, seq: int) -> list[tuple[int, str, dict]]:
        return [
            (f["seq"], f["kind"], f["data"])
            for f in self.frames
            if f["type"] == "event" and f["seq"] > seq
        ]

    async def reach(self, seq: int, timeout: float = 10) -> None:
        await self.wait(lambda f: f["type"] == "event" and f["seq"] >= seq, 0, timeout)

    async def closed(self, timeout: float = 2) -> int:
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        assert self.close_code is not None
        return self.close_code

    async def close(self) -> None:
        await self.ws.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, 5)
