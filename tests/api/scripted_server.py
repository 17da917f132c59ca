"""A tiny partner API whose answers follow a script, served over real HTTP in a thread.

Each request takes the next behaviour from `ScriptedApi.script` ("ok" when it is empty), so
a test says exactly which request fails and how, and then reads what the server received.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import orjson
import uvicorn

from hotstar_sync.api.token import verify_token
from hotstar_sync.config import DEMO_AKAMAI_SECRET


def page_body(offset: int, size: int, total: int = 3) -> bytes:
    items = [
        {"id": i, "contentId": str(1000 + i)} for i in range(offset, min(total, offset + size))
    ]
    return orjson.dumps(
        {
            "body": {"results": {"items": items, "totalResults": total, "offset": offset}},
            "statusCode": "OK",
            "statusCodeValue": 200,
        }
    )


@dataclass
class Received:
    at: float
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class ScriptedApi:
    script: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    key: bytes = bytes.fromhex(DEMO_AKAMAI_SECRET)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        from urllib.parse import parse_qsl

        params = dict(parse_qsl(scope["query_string"].decode()))
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.received.append(Received(time.monotonic(), params, headers))
        behaviour = self.script.pop(0) if self.script else "ok"
        if behaviour == "ok" and verify_token(self.key, headers.get("hdnea", "")):
            behaviour = "403"
        offset, size = int(params.get("offset", 0)), int(params.get("size", 1000))
        status, body, extra = 200, page_body(offset, size), []
        if behaviour == "429":
            status, body, extra = 429, b'{"error":"rate"}', [(b"retry-after", b"1")]
        elif behaviour == "429-bare":  # no Retry-After
            status, body = 429, b'{"error":"rate"}'
        elif behaviour.startswith("429-date:"):  # Retry-After as an HTTP date, n s ahead
            when = formatdate(time.time() + float(behaviour.split(":")[1]), usegmt=True)
            status, body, extra = 429, b'{"error":"rate"}', [(b"retry-after", when.encode())]
        elif behaviour == "429-huge":
            status, body, extra = 429, b'{"error":"rate"}', [(b"retry-after", b"1e12")]
        elif behaviour.startswith("200-error"):  # the envelope says 500 (or :n), no items
            inner = int(behaviour.partition(":")[2] or 500)
            body = orjson.dumps(
                {
                    "body": {"results": {"items": [], "totalResults": 0, "offset": offset}},
                    "statusCode": "ERROR",
                    "statusCodeValue": inner,
                }
            )
        elif behaviour == "gzipbad":  # says gzip, is not: the body cannot be decoded
            body, extra = b"not gzip at all" * 10, [(b"content-encoding", b"gzip")]
        elif behaviour == "500":
            status, body = 503, b'{"error":"unavailable"}'
        elif behaviour == "403":
            status, body = 403, b'{"error":"forbidden"}'
        elif behaviour == "400":
            status, body = 400, b'{"error":"offset + size must not exceed 10000"}'
        elif behaviour == "400-echo":  # a gateway that echoes the request's token
            status, body = 400, orjson.dumps({"error": f"bad token {headers.get('hdnea')}"})
        elif behaviour.startswith("slow:"):
            await asyncio.sleep(float(behaviour.split(":")[1]))
        elif behaviour == "badjson":
            body = body[: len(body) // 2]
        headers_out = [(b"content-type", b"application/json"), *extra]
        if behaviour == "drop":
            # Promise the whole body, send half, then break the connection.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [*headers_out, (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body[:100], "more_body": True})
            raise ConnectionResetError("dropped on purpose")
        if behaviour.startswith("trickle:"):
            # The whole body, a few bytes at a time: each read is quick, the answer is not.
            seconds = float(behaviour.split(":")[1])
            await send({"type": "http.response.start", "status": 200, "headers": headers_out})
            pieces = [body[i : i + 16] for i in range(0, len(body), 16)]
            for piece in pieces:
                await send({"type": "http.response.body", "body": piece, "more_body": True})
                await asyncio.sleep(seconds / len(pieces))
            await send({"type": "http.response.body", "body": b""})
            return
        headers_out.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers_out})
        await send({"type": "http.response.body", "body": body})


@contextmanager
def serve(app: ScriptedApi) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()
