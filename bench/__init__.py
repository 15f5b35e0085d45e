"""Hearth's benchmark suite (issue 7): `make bench`, `make bench-full`.

The harness drives the product only through its public surface (HTTP
sessions, the WebSocket protocol in docs/protocol.md) and measures it side
by side with a raw-websockets limit, a bare ASGI limit and the Channels
tutorial pattern, in the same run, with the same client.
"""
