"""A fake Slack on 127.0.0.1 per test, and settings pointing the bot-token client at it."""

import pytest
from slack_server import FakeSlack

from leadgov.config.settings import Settings

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy",
                   "ALL_PROXY", "all_proxy")


@pytest.fixture
def slack_server(monkeypatch):
    """The running fake Slack; proxy variables are cleared so that slack-sdk and urllib talk to it
    directly (both read them when no proxy is given)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with FakeSlack() as server:
        yield server


def _settings(**values) -> Settings:
    values = {"slack_bot_token": None, "slack_webhook_url": None, "database_url": "sqlite://", **values}
    return Settings(_env_file=None, **values)


@pytest.fixture
def make_settings():
    """``make_settings(**values)``: Settings from these values only (no ``.env`` file, and no Slack
    setting taken from the environment)."""
    return _settings


@pytest.fixture
def slack_settings(slack_server) -> Settings:
    """Bot-token settings pointing at the fake Slack, with a 0.5 s timeout."""
    return _settings(
        slack_bot_token="xoxb-test", slack_base_url=slack_server.api_url, slack_timeout_seconds=0.5
    )
