"""Runtime settings, read once from the environment (prefix ``LEADGOV_``) or a ``.env`` file.

Everything has an embedded default so that a fresh clone runs the demo with SQLite and no
server; production overrides the database URL, the HMAC key and the Slack settings.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_HMAC_KEY = "leadgov-development-key-not-for-production"


class Settings(BaseSettings):
    """leadgov's settings; each field can be set as ``LEADGOV_<FIELD NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="LEADGOV_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    data_dir: Path = Field(Path("data"), description="Folder for the default SQLite database.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: a SQLite file in data_dir."
    )
    output_dir: Path = Field(Path("out"), description="Where result files and reports are written.")
    locale: Literal["fr", "en"] = Field("fr", description="Language of cross-supplier output.")
    timezone: str = Field("Europe/Paris", description="Zone of naive datetimes and of periods.")
    default_phone_region: str = Field("FR", description="Region of national numbers in CRM exports.")
    hmac_key: SecretStr = Field(
        SecretStr(DEV_HMAC_KEY),
        description="Key of the identity hashes and of the suppression list. Rotate with care.",
    )
    allow_dev_key: bool = Field(
        False, description="Run with the public development HMAC key even with PostgreSQL or Slack configured "
                           "(a shared test server); refused otherwise.")
    crm_export: Path | None = Field(
        None, description="The CRM export (CSV with email, phone) that contracts with exclusions.crm_check "
                          "are checked against (ALREADY_IN_CRM), when a door is not given one.")
    max_file_bytes: int = Field(512 * 1024 * 1024, description="Larger delivery files are refused.")
    slack_bot_token: SecretStr | None = Field(
        None, description="Bot token: alerts go through chat.postMessage to the contract's channels.")
    slack_webhook_url: SecretStr | None = Field(
        None, description="Incoming webhook, the alternative to a bot token (its channel is fixed).")
    slack_base_url: str = Field("https://slack.com/api/", description="Slack Web API base URL (ends with /).")
    slack_timeout_seconds: float = Field(10.0, gt=0, description="Bound on one Slack HTTP request.")
    send_budget_seconds: float = Field(
        30.0, gt=0, description="How long one command spends sending alerts and reports; what is left waits "
        "in the outbox for the next run (`leadgov alerts send`).")
    smtp_host: str | None = Field(
        None, description="SMTP server the committee's reports are e-mailed through (none: they wait in the outbox).")
    smtp_port: int = Field(25, gt=0, lt=65536, description="SMTP server port.")
    smtp_from: str = Field("leadgov@localhost", description="The reports' sender address.")
    smtp_user: str | None = Field(None, description="SMTP login, when the server asks for one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password, with smtp_user.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS before logging in.")
    smtp_timeout_seconds: float = Field(20.0, gt=0, description="Bound on one SMTP exchange.")

    def dev_key_refusal(self, database_url: str) -> str | None:
        """Why this configuration may not run, if it may not: the HMAC key is the public development key
        (anyone can test the identity hashes and the suppression list against guesses) while a
        database server or Slack is configured, i.e. the data is real, unless ``allow_dev_key``."""
        if self.allow_dev_key or self.hmac_key.get_secret_value() != DEV_HMAC_KEY:
            return None
        configured = [name for name, present in (
            ("a PostgreSQL database", not database_url.startswith("sqlite")),
            ("Slack", bool(self.slack_bot_token or self.slack_webhook_url)),
        ) if present]
        if not configured:
            return None
        return (f"LEADGOV_HMAC_KEY is the public development key while {' and '.join(configured)} is configured: "
                "set a secret key (SECURITY.md, The HMAC key), or LEADGOV_ALLOW_DEV_KEY=1 to run with it anyway")

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or a SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'leadgov.db').as_posix()}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
