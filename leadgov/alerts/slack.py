"""Post one alert message to Slack through slack-sdk: a bot token (Web API) or an incoming webhook.

``SlackSender.post(channel, text, blocks)`` either delivers the message or raises
``SlackDeliveryError``; the outbox (``leadgov.alerts.outbox``) keeps a failed alert for the next run.

Retries are the SDK's own retry handlers: connection errors (once), HTTP 429 and HTTP 500/503.
The SDK counts retries in one state shared by all handlers, so a message gets at most
``1 + MAX_RETRIES`` attempts whatever mix of errors it meets. A read timeout is *not* retried
(the SDK's connection handler does not treat it as a connection error), which is what we want:
Slack may have posted a message whose answer we did not get, and a retry would post it twice.

Worst-case time spent in one ``post`` (T = ``slack_timeout_seconds``)::

    (1 + MAX_RETRIES) * T  +  MAX_RETRIES * (MAX_RETRY_AFTER_SECONDS + 1)

i.e. 3 * 10 + 2 * 31 = 92 s with the defaults. The SDK sleeps ``Retry-After`` plus up to 1 s of
jitter after a 429 (and 0.5 * 2**n s plus up to 1 s after a 5xx, less than the 429 bound); a
429 asking for more than ``MAX_RETRY_AFTER_SECONDS`` is not waited for but reported at once.
T bounds each blocking socket operation (connect, each read) of urllib, not a whole exchange.

Proxies: slack-sdk treats ``proxy=None`` as "not set" and then reads ``HTTPS_PROXY`` /
``https_proxy`` / ``HTTP_PROXY`` / ``http_proxy``; even without them urllib's default opener
honours the proxy environment variables (and ``NO_PROXY``). Passing ``proxy=None`` therefore
cannot turn proxies off, so we do not pass it: a corporate proxy set in the environment is used,
and tests that talk to a loopback server must clear those variables.

Nothing here puts the message text, the blocks, the token or the webhook URL in an exception
message: ``SlackDeliveryError`` says what failed (HTTP status, Slack error code, timeout) and for
which channel, and is raised ``from None`` because the SDK's own exceptions print the response.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from http.client import HTTPException
from typing import TYPE_CHECKING, Literal
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient

from leadgov.alerts.types import Posted

if TYPE_CHECKING:
    from leadgov.config.settings import Settings

#: Retries after the first attempt, for 429 and 5xx answers alike (the SDK's count is shared).
MAX_RETRIES = 2
#: A 429 asking to wait longer than this is not retried: the alert waits in the outbox instead.
MAX_RETRY_AFTER_SECONDS = 30

#: Messages posted through the Web API carry their outbox key as metadata of this event type.
METADATA_EVENT = "leadgov_alert"
#: How many of a channel's latest messages a retry looks through for its earlier post.
HISTORY_LIMIT = 200

# Slack error codes are short snake_case words ("channel_not_found", "no_service"); anything else
# (an HTML error page, an echo of the request) is not copied into the error message.
_ERROR_CODE = re.compile(r"[a-z0-9_.\-]{1,80}")


class SlackDeliveryError(Exception):
    """A message could not be delivered, after the SDK's retries.

    ``status`` is the last HTTP status (None when there was no answer), ``error`` the Slack error
    code when there is one; the message text and blocks are never part of it.
    """

    def __init__(self, channel: str, reason: str, *, status: int | None = None, error: str | None = None):
        self.channel = channel
        self.reason = reason
        self.status = status
        self.error = error
        super().__init__(f"Slack message to channel {channel!r} not delivered: {reason}")


class _BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """The SDK's 429 handler (sleeps ``Retry-After`` + jitter), except that it gives up on a wait
    longer than ``MAX_RETRY_AFTER_SECONDS`` or a ``Retry-After`` that is not a number of seconds
    (the SDK would raise ValueError on it)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        for name, values in response.headers.items():
            if name.lower() == "retry-after":
                value = values[0] if isinstance(values, list) else values
                return str(value).strip().isdigit() and int(value) <= MAX_RETRY_AFTER_SECONDS
        return True  # no header: the SDK waits 1-2 s


def _retry_handlers() -> list[RetryHandler]:
    return [
        ConnectionErrorRetryHandler(),
        _BoundedRateLimitRetryHandler(max_retry_count=MAX_RETRIES),
        ServerErrorRetryHandler(max_retry_count=MAX_RETRIES),
    ]


def _error_code(value: object) -> str | None:
    """``value`` if it looks like a Slack error code, else None."""
    if isinstance(value, str) and _ERROR_CODE.fullmatch(value.strip()):
        return value.strip()
    return None


def _http_reason(status: int | None, error: str | None) -> str:
    parts = [f"HTTP {status}"] if status is not None else []
    if error:
        parts.append(f"Slack error {error}")
    return ", ".join(parts) or "unexpected answer"


class SlackSender:
    """Sends messages with a ``WebClient`` (bot token) or a ``WebhookClient`` (incoming webhook).

    Build it with ``from_settings``. ``post`` has the same signature in both modes; a webhook posts
    to its own fixed channel and ignores ``channel`` (it is only named in errors).
    """

    def __init__(
        self, *, web_client: WebClient | None = None, webhook_client: WebhookClient | None = None
    ):
        if (web_client is None) == (webhook_client is None):
            raise ValueError("SlackSender needs exactly one of web_client and webhook_client")
        self._web = web_client
        self._webhook = webhook_client
        self._timeout = float((web_client or webhook_client).timeout)  # type: ignore[union-attr]  # one is set

    def bound_timeout(self, seconds: float) -> None:
        """Wait at most ``seconds`` (but at least 1 s, so that a nearly spent budget still lets a
        request through) on each socket operation from now on, never more than the configured
        timeout: a command's sending keeps to its time budget."""
        client = self._web if self._web is not None else self._webhook
        assert client is not None  # exactly one client (__init__)
        client.timeout = min(self._timeout, max(1.0, seconds))  # type: ignore[assignment]  # urllib takes floats

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackSender | None:
        """A sender for the configured bot token (preferred) or webhook URL; None when neither is
        set, in which case alerts stay in the outbox."""
        token = settings.slack_bot_token.get_secret_value().strip() if settings.slack_bot_token else ""
        url = settings.slack_webhook_url.get_secret_value().strip() if settings.slack_webhook_url else ""
        timeout = settings.slack_timeout_seconds
        if token:
            client = WebClient(
                token=token,
                base_url=settings.slack_base_url,
                timeout=timeout,  # type: ignore[arg-type]  # slack-sdk says int; urllib takes the float as is
                retry_handlers=_retry_handlers(),
            )
            return cls(web_client=client)
        if url:
            return cls(webhook_client=WebhookClient(
                url, timeout=timeout, retry_handlers=_retry_handlers()  # type: ignore[arg-type]  # as above
            ))
        return None

    @property
    def mode(self) -> Literal["web", "webhook"]:
        return "web" if self._web is not None else "webhook"

    def post(self, channel: str, text: str, blocks: list[dict[str, object]], *, key: str | None = None,
             thread_ts: str | None = None) -> Posted | None:
        """Post ``text`` (the notification fallback) and ``blocks`` to ``channel`` (in the thread of
        ``thread_ts`` when given); raise ``SlackDeliveryError`` when Slack did not accept it after the
        retries. Through the Web API the message carries ``key`` in its metadata (so that a retry can
        find it: ``find``) and the answer says where it is; a webhook says nothing (None)."""
        try:
            if self._web is not None:
                metadata = None if key is None else {"event_type": METADATA_EVENT, "event_payload": {"key": key}}
                answer = self._web.chat_postMessage(channel=channel, text=text, blocks=blocks or None,
                                                    thread_ts=thread_ts, metadata=metadata)
                return Posted(str(answer.get("channel") or channel), str(answer.get("ts")))
            assert self._webhook is not None  # exactly one client (__init__)
            response = self._webhook.send(text=text, blocks=blocks or None)
        except SlackApiError as exc:  # Web API: ok:false, or an HTTP error left after the retries
            status = getattr(exc.response, "status_code", None)
            error = _error_code(exc.response.get("error")) if isinstance(exc.response.data, dict) else None
            raise SlackDeliveryError(channel, _http_reason(status, error), status=status, error=error) from None
        except SlackClientError as exc:  # refused by the SDK before sending (e.g. not an http(s) URL)
            raise SlackDeliveryError(channel, f"request refused by slack-sdk ({type(exc).__name__})") from None
        except (TimeoutError, URLError, OSError, HTTPException, ValueError) as exc:
            raise SlackDeliveryError(channel, self._transport_reason(exc)) from None
        if response.status_code != 200 or response.body != "ok":
            error = _error_code(response.body)
            raise SlackDeliveryError(
                channel, _http_reason(response.status_code, error), status=response.status_code, error=error
            )
        return None

    @property
    def threads(self) -> bool:
        """Whether this sender can reply in threads and update messages (the Web API; not a webhook)."""
        return self._web is not None

    def update(self, posted: Posted, text: str, blocks: list[dict[str, object]]) -> None:
        """Replace a posted message's text and blocks (``chat.update``)."""
        web = self._web
        assert web is not None  # only the Web API updates messages (``threads``)
        self._calling(posted.channel, lambda: web.chat_update(channel=posted.channel, ts=posted.ts, text=text,
                                                              blocks=blocks or None))

    def find(self, channel: str, key: str, *, thread_ts: str | None = None) -> Posted | None:
        """The message an earlier attempt posted with ``key`` in its metadata, if Slack has it: the
        channel's last ``HISTORY_LIMIT`` messages, or the replies of ``thread_ts``. A retry asks this
        first, so a message whose answer was lost is not posted twice."""
        web = self._web
        if web is None:
            return None
        channel_id = self.channel_id(channel)
        if thread_ts is None:
            page = self._calling(channel, partial(web.conversations_history, channel=channel_id,
                                                  include_all_metadata=True, limit=HISTORY_LIMIT))
        else:
            page = self._calling(channel, partial(web.conversations_replies, channel=channel_id, ts=thread_ts,
                                                  include_all_metadata=True, limit=HISTORY_LIMIT))
        for message in page.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == METADATA_EVENT and (metadata.get("event_payload") or {}).get("key") == key:
                return Posted(channel_id, str(message["ts"]))
        return None

    def upload(self, channel: str, message: str, files: list[tuple[str, bytes]]) -> None:
        """Post ``files`` (name, content) to ``channel`` with ``message`` as their comment, through
        ``files_upload_v2`` (files.getUploadURLExternal, the upload, files.completeUploadExternal).
        A ``#name`` channel is resolved to its id first (``conversations.list``), as the upload needs
        an id. A webhook cannot carry files: it posts the message alone (the e-mail has the files)."""
        if self._web is None:
            self.post(channel, message, [])
            return
        web = self._web
        self._calling(channel, lambda: web.files_upload_v2(
            channel=self.channel_id(channel), initial_comment=message,
            file_uploads=[{"content": content, "filename": name, "title": name} for name, content in files]))

    def channel_id(self, channel: str) -> str:
        """The id of ``channel``: itself unless it is a ``#name``, looked up with conversations.list
        (every page; archived channels left out). An unknown name raises ``SlackDeliveryError``."""
        if not channel.startswith("#"):
            return channel
        name, web = channel[1:], self._web
        assert web is not None  # only the Web API knows channels
        cursor: str | None = None
        while True:
            page = self._calling(channel, partial(web.conversations_list, types="public_channel,private_channel",
                                                  exclude_archived=True, limit=1000, cursor=cursor))
            for found in page.get("channels") or []:
                if found.get("name") == name:
                    return str(found["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                raise SlackDeliveryError(channel, "channel not found (is the bot a member of it?)",
                                         error="channel_not_found")

    def _calling(self, channel: str, call: Callable[[], SlackResponse]) -> SlackResponse:
        """``call()`` with the SDK's errors turned into ``SlackDeliveryError`` (as ``post`` does)."""
        try:
            return call()
        except SlackApiError as exc:
            status = getattr(exc.response, "status_code", None)
            error = _error_code(exc.response.get("error")) if isinstance(exc.response.data, dict) else None
            raise SlackDeliveryError(channel, _http_reason(status, error), status=status, error=error) from None
        except SlackClientError as exc:  # SlackRequestError: the upload itself was refused
            raise SlackDeliveryError(channel, f"request refused ({type(exc).__name__})") from None
        except (TimeoutError, URLError, OSError, HTTPException, ValueError) as exc:
            raise SlackDeliveryError(channel, self._transport_reason(exc)) from None

    def _transport_reason(self, exc: Exception) -> str:
        client = self._web if self._web is not None else self._webhook
        assert client is not None  # exactly one client (__init__)
        if isinstance(exc, TimeoutError) or (isinstance(exc, URLError) and isinstance(exc.reason, TimeoutError)):
            return f"timed out (timeout {client.timeout} s)"
        if isinstance(exc, URLError) and isinstance(exc.reason, Exception):
            return f"connection error ({type(exc.reason).__name__})"
        if isinstance(exc, (HTTPException, ValueError)):
            return f"unreadable answer ({type(exc).__name__})"
        return f"connection error ({type(exc).__name__})"
