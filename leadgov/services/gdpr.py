"""GDPR: the jobs behind ``leadgov gdpr purge | erase | object | export | rekey`` and the
``gdpr_retention`` flow (docs/gdpr.md).

Each job is one transaction on the runtime's database:

- ``purge_expired``: erase (or count, on a dry run) the personal data of the leads older than their
  contract's ``gdpr.retention_days`` on ``as_of`` (default: today on the runtime's clock);
- ``erase_person``: erase a person's personal data everywhere and suppress them;
- ``object_for_person``: suppress a person, their data kept;
- ``export_person``: everything held on a person (the right of access), stamped by the runtime's clock;
- ``rekey``: identity keys and suppression hashes recomputed from the settings' HMAC key to a new one.

The person is named by raw emails and phones, normalised here (a national phone in the request's
region, default the settings' ``default_phone_region``). Every refusal is a ``Refused`` whose
message never repeats a value; results hold counts only, except the export's, whose purpose is to
show the person's data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from leadgov import gdpr
from leadgov.errors import Refused
from leadgov.gdpr import Person, RekeyResult, RetentionResult
from leadgov.services.runtime import Runtime
from leadgov.services.steps import StepRunner, run_directly

#: What an erasure or an objection did: counts, never who (the domain names it ``PersonRequest``).
PersonResult = gdpr.PersonRequest

__all__ = ["PersonExport", "PersonRequest", "PersonResult", "PurgeRequest", "RekeyRequest", "RekeyResult",
           "RetentionResult", "SuppressionStatus", "erase_expired", "erase_person", "export_person",
           "object_for_person", "purge_expired", "rekey"]


# --- requests and results ----------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeRequest:
    #: The day the ages are computed on; default today (the runtime's clock, in the settings' zone).
    as_of: date | None = None
    #: Count what would be erased; change nothing.
    dry_run: bool = False


@dataclass(frozen=True)
class PersonRequest:
    """A person as the user names them: emails and phones as typed (normalised by the service)."""

    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    #: Region of a phone written without its country code; default the settings' ``default_phone_region``.
    region: str | None = None
    #: Who asks for an erasure or an objection (kept with the suppression entries); default the
    #: runtime's actor. An export records nothing.
    by: str | None = None


@dataclass(frozen=True)
class RekeyRequest:
    """A rotation from the settings' HMAC key to ``new_key``."""

    new_key: str = field(repr=False)
    #: Rotate even if suppression entries of erased people cannot be carried over.
    force: bool = False
    #: Count what would change; change nothing.
    dry_run: bool = False


@dataclass(frozen=True)
class SuppressionStatus:
    """One email or phone of the person and whether the suppression list holds it."""

    kind: str
    value: str
    suppressed: bool
    reason: str | None
    #: When it was listed (ISO 8601 text), None when not listed.
    since: str | None
    #: Who asked for its latest decision (the objection, or the erasure that followed) and when (ISO
    #: 8601, UTC); None when not listed, or listed before leadgov kept it.
    requested_by: str | None = None
    requested_at: str | None = None


@dataclass(frozen=True)
class PersonExport:
    """Everything held on a person (right of access). ``leads`` are the documents shown to the person,
    one per lead, JSON-ready (supplier, delivery, verdict, reasons, personal and company fields,
    consent evidence, raw record, outcome events)."""

    generated_at: datetime
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    suppression: tuple[SuppressionStatus, ...]
    leads: tuple[dict[str, Any], ...] = field(repr=False)

    @property
    def suppressed(self) -> bool:
        return any(s.suppressed for s in self.suppression)

    def as_dict(self) -> dict[str, Any]:
        """The export as one JSON-ready document (what ``leadgov gdpr export`` prints)."""
        return {"generated_at": self.generated_at.isoformat(), "emails": list(self.emails),
                "phones": list(self.phones), "suppressed": self.suppressed,
                "suppression": [asdict(s) for s in self.suppression], "leads": list(self.leads)}


# --- helpers -----------------------------------------------------------------------------------


def _hmac_key(runtime: Runtime) -> str:
    return runtime.settings.hmac_key.get_secret_value()


def _person(runtime: Runtime, request: PersonRequest) -> Person:
    """The person normalised as deliveries are; a value that identifies no one is refused (unrepeated)."""
    region = request.region or runtime.settings.default_phone_region
    try:
        return gdpr.person(request.emails, request.phones, region=region)
    except gdpr.BadIdentifier as exc:
        raise Refused(str(exc)) from None


# --- retention ---------------------------------------------------------------------------------


def erase_expired(runtime: Runtime, as_of: date, dry_run: bool) -> RetentionResult:
    """The purge's one step and one transaction. Safe to retry: erased leads are not counted again."""
    with runtime.sessions() as session:
        return gdpr.purge(session, as_of, dry_run=dry_run)


def purge_expired(runtime: Runtime, request: PurgeRequest, *,
                  steps: StepRunner = run_directly) -> RetentionResult:
    """Erase (or count) the personal data past each contract version's retention; the counts per
    contract version, and the versions that could not be read (their leads left as they are)."""
    as_of = request.as_of or runtime.clock.today()
    return steps(erase_expired, runtime, as_of, request.dry_run)


# --- a person's requests -----------------------------------------------------------------------


def _asked(runtime: Runtime, request: PersonRequest) -> gdpr.Asked:
    """Who asked for the decision (the request's ``by``, else the runtime's actor) and when (now, naive UTC)."""
    return gdpr.Asked(request.by or runtime.actor, runtime.clock.now().astimezone(UTC).replace(tzinfo=None))


def erase_person(runtime: Runtime, request: PersonRequest) -> PersonResult:
    """Erase the person's personal data from every lead, outcome note and identity run, and put each
    of their emails and phones on the suppression list as ``erased``."""
    who = _person(runtime, request)
    with runtime.sessions() as session:
        return gdpr.erase(session, who, _hmac_key(runtime), asked=_asked(runtime, request))


def object_for_person(runtime: Runtime, request: PersonRequest) -> PersonResult:
    """Put each of the person's emails and phones on the suppression list as ``objected``; their data is kept."""
    who = _person(runtime, request)
    with runtime.sessions() as session:
        return gdpr.object_to_processing(session, who, _hmac_key(runtime), asked=_asked(runtime, request))


def export_person(runtime: Runtime, request: PersonRequest) -> PersonExport:
    """Everything held on the person, generated at the runtime's clock's now; no leads when nobody matches."""
    who = _person(runtime, request)
    with runtime.sessions() as session:
        data = gdpr.export_person(session, who, _hmac_key(runtime), generated_at=runtime.clock.now())
    return PersonExport(
        generated_at=runtime.clock.now().replace(microsecond=0),
        emails=tuple(data["emails"]), phones=tuple(data["phones"]),
        suppression=tuple(SuppressionStatus(**entry) for entry in data["suppression"]),
        leads=tuple(data["leads"]),
    )


# --- key rotation ------------------------------------------------------------------------------


def rekey(runtime: Runtime, request: RekeyRequest) -> RekeyResult:
    """Recompute every identity key and suppression hash from the settings' key to the new one, in
    one transaction; refused (nothing changed) when the new key is empty or the same, or when
    entries of erased people would be lost and ``force`` is not set."""
    with runtime.sessions() as session:
        try:
            return gdpr.rekey(session, _hmac_key(runtime), request.new_key, force=request.force,
                              dry_run=request.dry_run)
        except gdpr.RekeyRefused as exc:
            raise Refused(str(exc)) from None
