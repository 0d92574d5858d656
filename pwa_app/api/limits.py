"""A cap on request bodies, checked before anything reads them: a request with three 5 MB photos in base64 fits,
anything much larger is answered 413 without being held in memory. Only the API writes that carry files (a request
and its replies with attachments, a staff translation catalogue: its endpoint keeps its own 2 MB cap) get that much;
every other API write gets SMALL_BODY, so no one makes the server parse megabytes of JSON for a booking."""

import json
import re

from pwa_app.common.i18n import DEFAULT_LANG, gettext
from pwa_app.common.messages import ERRORS
from pwa_app.service_requests.rules import MAX_BASE64, MAX_FILES

MAX_BODY = MAX_FILES * MAX_BASE64 + 256 * 1024
SMALL_BODY = 64 * 1024
WITH_FILES = re.compile(r"^/api/(v1/requests(/[^/]+/replies)?|staff/content/import)/?$")


def limit_for(path: str, max_body: int) -> int:
    return SMALL_BODY if path.startswith("/api/") and not WITH_FILES.match(path) else max_body


class BodyLimit:
    """ASGI middleware: 413 for a declared Content-Length over the limit; a body without one (chunked) is read
    here up to the limit and handed on, or refused the same way."""

    def __init__(self, app, max_body: int = MAX_BODY):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        max_body = limit_for(scope.get("path", ""), self.max_body)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > max_body
            except ValueError:
                too_big = True
            if too_big:
                return await self._refuse(send)
            return await self.app(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_body:
                return await self._refuse(send)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body, sent = b"".join(chunks), False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    async def _refuse(self, send):
        body = json.dumps({"errors": {"attachments": gettext(DEFAULT_LANG, ERRORS["too_large"])},
                           "codes": {"attachments": "too_large"}}, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
