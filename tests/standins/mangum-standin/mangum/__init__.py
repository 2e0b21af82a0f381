"""STAND-IN for mangum, written for bld's offline tests (see tests/standins/README.md).

Mangum(app) is a Lambda handler that turns an API Gateway REST (payload 1.0) or
HTTP API (payload 2.0) event into one ASGI HTTP request, runs it on a fresh event
loop, and turns the ASGI response back into the API Gateway response shape.
"""
import asyncio
import base64
import urllib.parse

__all__ = ["Mangum"]
__version__ = "0.19.0+standin"

_TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml")


def _query_string(event, v2):
    if v2:
        return (event.get("rawQueryString") or "").encode()
    multi = event.get("multiValueQueryStringParameters") or {}
    single = event.get("queryStringParameters") or {}
    pairs = [(k, v) for k, vs in multi.items() for v in vs] if multi else list(single.items())
    return urllib.parse.urlencode(pairs).encode()


def _request(event, v2):
    if v2:
        http = event["requestContext"]["http"]
        method, path = http["method"], event.get("rawPath") or http.get("path") or "/"
    else:
        method, path = event["httpMethod"], event.get("path") or "/"
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if v2 and event.get("cookies"):
        headers["cookie"] = "; ".join(event["cookies"])
    body = event.get("body") or b""
    if isinstance(body, str):
        body = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    return method, path, headers, body


class Mangum:
    def __init__(self, app, lifespan="auto", api_gateway_base_path="/", **_ignored):
        self.app = app
        self.base_path = api_gateway_base_path

    def __call__(self, event, context):
        v2 = event.get("version") == "2.0"
        if not v2 and "httpMethod" not in event:
            raise RuntimeError("mangum stand-in: not an API Gateway REST or HTTP API event")
        method, path, headers, body = _request(event, v2)
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "method": method, "scheme": headers.get("x-forwarded-proto", "https"),
            "path": urllib.parse.unquote(path), "raw_path": path.encode(), "root_path": "",
            "query_string": _query_string(event, v2),
            "headers": [(k.encode(), str(v).encode()) for k, v in headers.items()],
            "server": (headers.get("host", "lambda"), 443), "client": ("127.0.0.1", 0),
            "aws.event": event, "aws.context": context,
        }
        status, out_headers, chunks = asyncio.run(self._run(scope, body))
        return self._response(v2, status, out_headers, b"".join(chunks))

    async def _run(self, scope, body):
        sent = {"done": False}
        finished = asyncio.Event()
        result = {"status": 500, "headers": [], "chunks": []}

        async def receive():
            if sent["done"]:
                # The client "disconnects" only once the response is complete.
                await finished.wait()
                return {"type": "http.disconnect"}
            sent["done"] = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            if message["type"] == "http.response.start":
                result["status"] = message["status"]
                result["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                result["chunks"].append(message.get("body", b""))
                if not message.get("more_body", False):
                    finished.set()

        try:
            await self.app(scope, receive, send)
        finally:
            finished.set()
        return result["status"], result["headers"], result["chunks"]

    @staticmethod
    def _response(v2, status, raw_headers, body):
        headers, multi, cookies = {}, {}, []
        for k, v in raw_headers:
            k, v = k.decode().lower(), v.decode()
            if k == "set-cookie" and v2:
                cookies.append(v)
                continue
            multi.setdefault(k, []).append(v)
            headers[k] = v
        ctype = headers.get("content-type", "")
        binary = bool(body) and not ctype.startswith(_TEXT_TYPES)
        text = base64.b64encode(body).decode() if binary else body.decode()
        out = {"statusCode": status, "headers": headers, "body": text, "isBase64Encoded": binary}
        if v2:
            if cookies:
                out["cookies"] = cookies
        else:
            out["multiValueHeaders"] = multi
        return out
