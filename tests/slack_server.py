"""A fake Slack on 127.0.0.1 for tests: the Web API under ``/api/`` and an incoming webhook at ``/hook``.

Every POST is recorded as ``{"path", "headers", "body"}`` (header names lower-cased; the body
parsed from JSON or form encoding, else the raw text). Answers come from a queue of behaviours,
then the default ``"ok"``:

* ``"ok"``: Web API ``{"ok": true, "channel": <channel>, "ts": "1.0"}``; webhook body ``ok``;
* ``("ratelimited", retry_after_seconds)``: 429 with ``Retry-After``;
* ``"error500"``: 500 with a plain-text body;
* ``("api_error", code)``: Web API 200 with ``{"ok": false, "error": code}``; webhook 400 with ``code``;
* ``("hang", seconds)``: wait that long (or until the server stops), then answer ``"ok"``.

Files (``files_upload_v2``): ``files.getUploadURLExternal`` answers an ``upload_url`` on this server
(``/upload/<file id>``), whose POST is recorded with its raw bytes as ``body``;
``files.completeUploadExternal`` answers the files. ``conversations.list`` lists ``channels``
(name -> id, default general, lead-ops and lead-governance: C0GEN, C0OPS, C0GOV) over pages of two.
Every ``chat.postMessage`` gets its own ``ts`` and is kept as Slack would keep it (``messages``:
channel id, ts, thread_ts, text, blocks, metadata; a ``#name`` channel answered with its id);
``chat.update`` replaces a kept message's text and blocks; ``conversations.history`` and
``conversations.replies`` list a channel's top-level messages (newest first) or a thread, with their
metadata. ``("lost", n)`` makes Slack post the message, then hang ``n`` seconds before answering,
as when the answer is lost.

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
UPLOAD_PREFIX = "/upload/"


class FakeSlack:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.channels: dict[str, str] = {"general": "C0GEN", "lead-ops": "C0OPS", "lead-governance": "C0GOV"}
        self._counter = 0
        #: The messages Slack holds, oldest first: ``{"channel", "ts", "thread_ts", "text", "blocks", "metadata"}``.
        self.messages: list[dict] = []
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

    def calls(self, method: str) -> list[dict]:
        """The recorded requests to one Web API method (``"files.completeUploadExternal"``)."""
        return [r for r in self.requests if r["path"] == f"{API_PREFIX}{method}"]

    @property
    def uploads(self) -> list[dict]:
        """The recorded file uploads: ``{"path", "headers", "body": bytes}``."""
        return [r for r in self.requests if r["path"].startswith(UPLOAD_PREFIX)]

    def _answer_for(self, method: str, body: dict) -> dict:
        with self._lock:
            self._counter += 1
            n = self._counter
        if method == "files.getUploadURLExternal":
            return {"ok": True, "file_id": f"F{n:04d}", "upload_url": f"http://127.0.0.1:{self.port}{UPLOAD_PREFIX}F{n:04d}"}
        if method == "files.completeUploadExternal":
            files = json.loads(body.get("files", "[]")) if isinstance(body.get("files"), str) else body.get("files")
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files or []]}
        if method == "conversations.list":
            listed = [{"id": i, "name": name} for name, i in self.channels.items()]
            start = int(body.get("cursor") or 0)
            page = listed[start:start + 2]
            after = str(start + 2) if start + 2 < len(listed) else ""
            return {"ok": True, "channels": page, "response_metadata": {"next_cursor": after}}
        if method == "chat.update":
            for message in self.messages:
                if message["channel"] == body.get("channel") and message["ts"] == body.get("ts"):
                    message.update(text=body.get("text"), blocks=_json_field(body.get("blocks")))
                    return {"ok": True, "channel": message["channel"], "ts": message["ts"]}
            return {"ok": False, "error": "message_not_found"}
        if method in ("conversations.history", "conversations.replies"):
            channel = body.get("channel")
            kept = [m for m in self.messages if m["channel"] == channel]
            if method == "conversations.history":
                listed = [m for m in reversed(kept) if m["thread_ts"] is None]
            else:
                listed = [m for m in kept if m["ts"] == body.get("ts") or m["thread_ts"] == body.get("ts")]
            return {"ok": True, "messages": [{"ts": m["ts"], "text": m["text"], "thread_ts": m["thread_ts"],
                                              "metadata": m["metadata"]} for m in listed]}
        if method == "chat.postMessage":
            message = self.post_message(body, f"{1700000000 + n}.000100")
            return {"ok": True, "channel": message["channel"], "ts": message["ts"]}
        return {"ok": True, "channel": body.get("channel"), "ts": f"{1700000000 + n}.000100"}

    def channel_id(self, channel: str | None) -> str | None:
        if channel and channel.startswith("#"):
            return self.channels.get(channel[1:], channel)
        return channel

    def post_message(self, body: dict, ts: str) -> dict:
        message = {"channel": self.channel_id(body.get("channel")), "ts": ts, "thread_ts": body.get("thread_ts"),
                   "text": body.get("text"), "blocks": _json_field(body.get("blocks")),
                   "metadata": _json_field(body.get("metadata"))}
        with self._lock:
            self.messages.append(message)
        return message

    def top_level(self, channel: str | None = None) -> list[dict]:
        """The kept messages that are not thread replies (of one channel, by id, if given)."""
        return [m for m in self.messages if m["thread_ts"] is None and channel in (None, m["channel"])]

    def replies(self, ts: str) -> list[dict]:
        return [m for m in self.messages if m["thread_ts"] == ts]

    def _next(self, request: dict):
        with self._lock:
            self.requests.append(request)
            return self._behaviours.popleft() if self._behaviours else "ok"


def _json_field(value):
    """A JSON-valued argument: form-encoded calls send it as a JSON string."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


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
            if self.path.startswith(UPLOAD_PREFIX):
                request = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": raw}
                behaviour = slack._next(request)
                if behaviour == "error500":
                    self._answer(500, "text/plain", "Internal Server Error")
                else:
                    self._answer(200, "text/plain", f"OK - {len(raw)}")
                return
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
            if kind == "lost":  # Slack keeps the message, its answer never arrives in time
                if self.path.endswith("chat.postMessage") and isinstance(body, dict):
                    slack.post_message(body, f"{1700000000 + len(slack.messages) + 5000}.000200")
                slack._stopping.wait(arg)
                self._answer(200, "application/json", json.dumps({"ok": True}))
                return
            if kind == "ok":
                if webhook:
                    self._answer(200, "text/plain", "ok")
                else:
                    method = self.path[len(API_PREFIX):]
                    self._json(200, slack._answer_for(method, body if isinstance(body, dict) else {}))
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
