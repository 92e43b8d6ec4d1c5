"""SlackSender with the real slack-sdk against the fake Slack on 127.0.0.1 (tests/slack_server.py)."""

import socket
import time

import pytest

from leadgov.alerts.slack import SlackDeliveryError, SlackSender

CHANNEL = "C0123OPS"
TEXT = "Rejection spike: Acme Leads 2025-03 at 31% (limit 20%)"
BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "Rejection spike - Acme Leads"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*31%* rejected in 2025-03 (limit *20%*)"}},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "contract ACME-2025"}]},
]
WEB_REQUEST = {"path": "/api/chat.postMessage", "body": {"channel": CHANNEL, "text": TEXT, "blocks": BLOCKS}}
HOOK_REQUEST = {"path": "/hook", "body": {"text": TEXT, "blocks": BLOCKS}}


def without_headers(requests: list[dict]) -> list[dict]:
    return [{"path": r["path"], "body": r["body"]} for r in requests]


def assert_leaks_nothing(error: SlackDeliveryError, *secrets: str) -> None:
    message = str(error)
    for secret in (TEXT, "Rejection spike", "31%", "ACME-2025", *secrets):
        assert secret not in message
    # raised "from None": the SDK's exception (which prints the response) is not chained
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


@pytest.fixture
def sender(slack_settings) -> SlackSender:
    return SlackSender.from_settings(slack_settings)


# --- Web API (bot token) -------------------------------------------------------------------------


def test_post_sends_channel_text_blocks_as_json_with_the_bearer_token(sender, slack_server):
    assert sender.mode == "web"
    sender.post(CHANNEL, TEXT, BLOCKS)

    assert without_headers(slack_server.requests) == [WEB_REQUEST]
    headers = slack_server.requests[0]["headers"]
    assert headers["authorization"] == "Bearer xoxb-test"
    assert headers["content-type"] == "application/json;charset=utf-8"


def test_post_without_blocks_sends_the_text_only(sender, slack_server):
    sender.post(CHANNEL, TEXT, [])

    assert without_headers(slack_server.requests) == [
        {"path": "/api/chat.postMessage", "body": {"channel": CHANNEL, "text": TEXT}}
    ]


def test_rate_limited_then_ok_waits_retry_after_and_delivers(sender, slack_server):
    slack_server.enqueue(("ratelimited", 1))
    started = time.monotonic()
    sender.post(CHANNEL, TEXT, BLOCKS)

    assert time.monotonic() - started >= 1.0  # the SDK slept Retry-After (+ jitter) before retrying
    assert without_headers(slack_server.requests) == [WEB_REQUEST, WEB_REQUEST]


def test_rate_limit_longer_than_the_cap_is_not_waited_for(sender, slack_server):
    slack_server.enqueue(("ratelimited", 120))
    started = time.monotonic()
    with pytest.raises(SlackDeliveryError) as caught:
        sender.post(CHANNEL, TEXT, BLOCKS)

    assert time.monotonic() - started < 5
    assert (caught.value.status, caught.value.error) == (429, "ratelimited")
    assert without_headers(slack_server.requests) == [WEB_REQUEST]


def test_server_error_then_ok_is_retried(sender, slack_server):
    slack_server.enqueue("error500")
    sender.post(CHANNEL, TEXT, BLOCKS)

    assert without_headers(slack_server.requests) == [WEB_REQUEST, WEB_REQUEST]


def test_server_error_beyond_the_retries_raises_with_the_status(sender, slack_server):
    slack_server.enqueue("error500", "error500", "error500", "ok")
    with pytest.raises(SlackDeliveryError) as caught:
        sender.post(CHANNEL, TEXT, BLOCKS)

    error = caught.value
    assert without_headers(slack_server.requests) == [WEB_REQUEST] * 3  # 1 attempt + 2 retries
    assert (error.status, error.error, error.channel) == (500, None, CHANNEL)
    assert "HTTP 500" in str(error) and CHANNEL in str(error)
    assert "Internal Server Error" not in str(error)  # the response body is not copied
    assert_leaks_nothing(error, "xoxb-test")


def test_api_error_raises_with_the_slack_error_code_without_retrying(sender, slack_server):
    slack_server.enqueue(("api_error", "channel_not_found"))
    with pytest.raises(SlackDeliveryError, match="channel_not_found") as caught:
        sender.post(CHANNEL, TEXT, BLOCKS)

    assert (caught.value.status, caught.value.error) == (200, "channel_not_found")
    assert without_headers(slack_server.requests) == [WEB_REQUEST]
    assert_leaks_nothing(caught.value, "xoxb-test")


def test_a_hanging_server_raises_a_timeout_within_a_bounded_time(sender, slack_server):
    slack_server.enqueue(("hang", 5))
    started = time.monotonic()
    with pytest.raises(SlackDeliveryError, match="timed out") as caught:
        sender.post(CHANNEL, TEXT, BLOCKS)

    assert time.monotonic() - started < 4  # bounds the hang (timeout 0.5 s); not a performance test
    assert caught.value.status is None
    # a read timeout is not retried: Slack may have posted it, a retry could post it twice
    assert without_headers(slack_server.requests) == [WEB_REQUEST]
    assert_leaks_nothing(caught.value, "xoxb-test")


def test_nothing_listening_raises_a_connection_error(make_settings, slack_server):
    with socket.socket() as probe:  # a loopback port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = SlackSender.from_settings(make_settings(
        slack_bot_token="xoxb-test", slack_base_url=f"http://127.0.0.1:{port}/api/", slack_timeout_seconds=0.5
    ))

    with pytest.raises(SlackDeliveryError, match="connection error") as caught:
        sender.post(CHANNEL, TEXT, BLOCKS)
    assert_leaks_nothing(caught.value, "xoxb-test")


# --- incoming webhook ----------------------------------------------------------------------------


@pytest.fixture
def webhook_sender(make_settings, slack_server) -> SlackSender:
    return SlackSender.from_settings(
        make_settings(slack_webhook_url=slack_server.webhook_url, slack_timeout_seconds=0.5)
    )


def test_webhook_posts_text_and_blocks_to_the_hook(webhook_sender, slack_server):
    assert webhook_sender.mode == "webhook"
    webhook_sender.post(CHANNEL, TEXT, BLOCKS)  # the channel is the webhook's own

    assert without_headers(slack_server.requests) == [HOOK_REQUEST]
    assert "authorization" not in slack_server.requests[0]["headers"]


def test_webhook_server_error_forever_raises_after_the_retries(webhook_sender, slack_server):
    slack_server.enqueue(*["error500"] * 10)
    with pytest.raises(SlackDeliveryError, match="HTTP 500") as caught:
        webhook_sender.post(CHANNEL, TEXT, BLOCKS)

    assert caught.value.status == 500
    assert without_headers(slack_server.requests) == [HOOK_REQUEST] * 3
    assert_leaks_nothing(caught.value, slack_server.webhook_url, "/hook")


def test_webhook_error_code_is_reported(webhook_sender, slack_server):
    slack_server.enqueue(("api_error", "channel_is_archived"))
    with pytest.raises(SlackDeliveryError, match="channel_is_archived") as caught:
        webhook_sender.post(CHANNEL, TEXT, BLOCKS)

    assert (caught.value.status, caught.value.error) == (400, "channel_is_archived")
    assert without_headers(slack_server.requests) == [HOOK_REQUEST]


def test_webhook_rate_limited_then_ok_is_retried(webhook_sender, slack_server):
    slack_server.enqueue(("ratelimited", 0))
    webhook_sender.post(CHANNEL, TEXT, BLOCKS)

    assert without_headers(slack_server.requests) == [HOOK_REQUEST, HOOK_REQUEST]


# --- configuration -------------------------------------------------------------------------------


def test_from_settings_is_none_without_token_or_webhook(make_settings):
    assert SlackSender.from_settings(make_settings()) is None
    assert SlackSender.from_settings(make_settings(slack_bot_token=" ", slack_webhook_url="")) is None


def test_the_bot_token_wins_over_the_webhook(make_settings, slack_server):
    sender = SlackSender.from_settings(make_settings(
        slack_bot_token="xoxb-test", slack_webhook_url=slack_server.webhook_url,
        slack_base_url=slack_server.api_url, slack_timeout_seconds=0.5,
    ))
    sender.post(CHANNEL, TEXT, BLOCKS)

    assert sender.mode == "web"
    assert without_headers(slack_server.requests) == [WEB_REQUEST]


def test_the_time_budget_lowers_the_timeout_never_raises_it(slack_settings):
    from leadgov.alerts.slack import SlackSender

    sender = SlackSender.from_settings(slack_settings)  # configured: 0.5 s
    client = sender._web
    sender.bound_timeout(float("inf"))
    assert client.timeout == 0.5
    sender.bound_timeout(0.2)  # a nearly spent budget: at least 1 s, but never above what is configured
    assert client.timeout == 0.5
    wide = SlackSender.from_settings(slack_settings.model_copy(update={"slack_timeout_seconds": 10.0}))
    wide.bound_timeout(3.0)
    assert wide._web.timeout == 3.0
    wide.bound_timeout(0.2)
    assert wide._web.timeout == 1.0
