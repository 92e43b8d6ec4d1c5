"""The errors a user can fix: every door shows them as one line (the CLI exits 2, a flow run fails
with the message, the inbox files the delivery under ``refused/`` with it). None of them carries a
lead's personal data."""


class Refused(Exception):
    """A request refused whole, before anything was stored: says what and where."""


class NoContract(LookupError):
    """The supplier has no stored contract (no delivery was ever validated for it)."""
