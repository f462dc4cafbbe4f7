"""A reply streamed to the page as JSON lines, the protocol `core/stream.js` reads.

`{"event": "start", ...}`, then `{"event": "text", "text": ...}` per piece, then
`{"event": "done", "html": ...}`, or `{"event": "error", "message": ..., "html": ...}` when the
answer backend became unavailable part-way (the finished HTML then shows the failure).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

from assistant.generation.base import GenerationUnavailable


def _event(**fields: Any) -> bytes:
    return (json.dumps(fields) + "\n").encode()


def streamed_reply(
    pieces: Iterable[str], *, finished_html: Callable[[], str], **start: Any
) -> StreamingHttpResponse:
    def events() -> Iterator[bytes]:
        yield _event(event="start", **start)
        try:
            for piece in pieces:
                yield _event(event="text", text=piece)
        except GenerationUnavailable as error:
            yield _event(event="error", message=error.message, html=finished_html())
            return
        yield _event(event="done", html=finished_html())

    response = StreamingHttpResponse(events(), content_type="application/x-ndjson")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a proxy must pass the pieces on as they come
    return response
