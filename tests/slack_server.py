"""A fake Slack on 127.0.0.1 for tests: the Web API under ``/api/`` and an incoming webhook at ``/hook``.

Every POST is recorded as ``{"path", "headers", "body"}`` (header names lower-cased; the body
parsed from JSON or form encoding, else the raw text). Answers come from a queue of behaviours,
then the default ``"ok"``:

* ``"ok"``: Web API ``{"ok": true, "channel": <channel>, "ts": "1.0"}``; webhook body ``ok``;
* ``("ratelimited", retry_after_seconds)``: 429 with ``Retry-After``;
* ``"error500"``: 500 with a plain-text body;
* ``("api_error", code)``: Web API 200 with ``{"ok": false, "error": code}``; webhook 400 with ``code``;
* ``("hang", seconds)``: wait that long (or until the server stops), then answer ``"ok"``.

    with FakeSlack() as slack:
        slack.enqueue("error500", "ok")
        ... WebClient(base_url=slack.api_url) / WebhookClient(slack.webhook_url) ...
        slack.requests
"""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

WEBHOOK_PATH = "/hook"
API_PREFIX = "/api/"


class FakeSlack:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self._behaviours: deque = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def api_url(self) -> str:
        """The Web API base URL (ends with "/", as slack-sdk joins method names to it)."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"

    def enqueue(self, *behaviours) -> None:
        """Answer the next requests with these behaviours, in order (then "ok")."""
        with self._lock:
            self._behaviours.extend(behaviours)

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging handlers
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _next(self, request: dict):
        with self._lock:
            self.requests.append(request)
            return self._behaviours.popleft() if self._behaviours else "ok"


def _parse_body(content_type: str, raw: bytes):
    text = raw.decode("utf-8")
    if content_type.startswith("application/json"):
        return json.loads(text)
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {key: values[0] if len(values) == 1 else values for key, values in parse_qs(text).items()}
    return text


def _handler_for(slack: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = _parse_body(self.headers.get("Content-Type", ""), raw)
            request = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
            if self.path != WEBHOOK_PATH and not self.path.startswith(API_PREFIX):
                with slack._lock:
                    slack.requests.append(request)
                self._answer(404, "text/plain", "not_found")
                return
            behaviour = slack._next(request)
            kind, arg = behaviour if isinstance(behaviour, tuple) else (behaviour, None)
            webhook = self.path == WEBHOOK_PATH
            if kind == "hang":
                slack._stopping.wait(arg)
                kind = "ok"
            if kind == "ok":
                if webhook:
                    self._answer(200, "text/plain", "ok")
                else:
                    channel = body.get("channel") if isinstance(body, dict) else None
                    self._json(200, {"ok": True, "channel": channel, "ts": "1.0"})
            elif kind == "ratelimited":
                headers = {"Retry-After": str(arg)}
                if webhook:
                    self._answer(429, "text/plain", "rate_limited", headers)
                else:
                    self._json(429, {"ok": False, "error": "ratelimited"}, headers)
            elif kind == "error500":
                self._answer(500, "text/plain", "Internal Server Error")
            elif kind == "api_error":
                if webhook:
                    self._answer(400, "text/plain", arg)
                else:
                    self._json(200, {"ok": False, "error": arg})
            else:
                raise ValueError(f"unknown fake Slack behaviour {behaviour!r}")

        def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
            self._answer(status, "application/json; charset=utf-8", json.dumps(payload), headers)

        def _answer(self, status: int, content_type: str, text: str, headers: dict | None = None) -> None:
            data = text.encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout): nothing to answer

        def log_message(self, format, *args) -> None:  # noqa: A002 - quiet in tests
            pass

    return Handler
