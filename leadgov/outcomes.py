"""Importing outcome events and contests (docs/governance.md, Outcomes; docs/governance-rules.md).

``check_events`` is the pure part: given the file's rows and what the database knows about the
leads they name, it decides which rows are stored, which are duplicates and which are refused
(with the file line and the rule). ``import_outcomes`` does the reading and the storing, in the
caller's transaction.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import TypedDict

import pandas as pd
from sqlalchemy.orm import Session

from leadgov.claims import ClaimChanges, claim_candidates, open_claims
from leadgov.config.contract import Contract, parse_contract
from leadgov.models import outcome_store
from leadgov.models.statuses import ClaimOrigin, LeadStatus, OutcomeEventType
from leadgov.normalise.values import parse_datetimes, parse_euros
from leadgov.reading.outcomes import read_outcomes_export, record_lines

EVENT_NAMES = frozenset(e.value for e in OutcomeEventType)


@dataclass(frozen=True)
class Refusal:
    """A row that was not stored: where it is and which rule refused it (never a personal value)."""

    line: int | None
    rule: str
    message: str


class StoredContest(TypedDict):
    """A contest just stored, as the alerts need it."""

    supplier_id: str
    lead_id: str
    contest_reason: str
    delivered_on: date


@dataclass(frozen=True)
class OutcomeImport:
    """What an import did: stored, duplicated (already stored or repeated), refused by line."""

    source: str
    rows: int
    stored: int
    duplicated: int
    refusals: list[Refusal]
    contests: int = 0
    claims: ClaimChanges = field(default_factory=ClaimChanges)
    #: The contests stored: supplier_id, lead_id, contest_reason, delivered_on (for the alerts).
    contested: tuple[StoredContest, ...] = ()

    @property
    def refused(self) -> int:
        return len(self.refusals)

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "rows": self.rows, "stored": self.stored, "duplicated": self.duplicated,
                "refused": self.refused, "contests": self.contests,
                "claims_opened": self.claims.opened, "claims_not_owed_cap": self.claims.not_owed_cap,
                "refusals": [r.__dict__ for r in self.refusals]}


#: A time followed by an offset (a bare date's "-03" is not an offset).
_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"


def _utc_and_local_day(text: pd.Series, tz: str) -> tuple[pd.Series, pd.Series]:
    """(naive UTC to the second, local day) of each ``at``. A value with an offset is exact; a
    local value that occurs twice (the autumn DST change) is taken at its first occurrence, and
    one that does not exist (the spring gap) is moved forward (docs/governance-rules.md, Time)."""
    local = parse_datetimes(text, "auto", tz)["value"].dt.floor("s")
    utc = local.dt.tz_localize(tz, ambiguous=True, nonexistent="shift_forward").dt.tz_convert("UTC")
    explicit = text.str.strip().str.contains(_OFFSET, na=False) & local.notna()
    if explicit.any():
        exact = pd.to_datetime(text[explicit].str.strip(), utc=True, format="ISO8601", errors="coerce")
        utc = utc.where(~explicit, exact.dt.floor("s"))
    return utc.dt.tz_localize(None), local.dt.normalize()


def parse_rows(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Typed rows: ``at`` as naive UTC to the second, ``day`` its local date, ``amount_eur``
    as an exact ``Decimal`` (None when absent), plus ``refusal`` (rule, message) for rows
    unreadable on their own."""
    rows = pd.DataFrame({"row": range(len(frame))}, index=frame.index)
    for name in ("lead_id", "supplier_id", "objection", "note"):
        rows[name] = frame[name].astype(object).where(frame[name].notna(), None)
    rows["event"] = frame["event"].str.lower().astype(object).where(frame["event"].notna(), None)
    rows["contest_reason"] = frame["contest_reason"].str.upper().astype(object).where(
        frame["contest_reason"].notna(), None)
    rows["at"], rows["day"] = _utc_and_local_day(frame["at"], tz)
    amounts = parse_euros(frame["amount_eur"])
    rows["amount_eur"] = amounts["value"]
    checks = [
        (rows["lead_id"].isna() | rows["supplier_id"].isna() | rows["event"].isna() | frame["at"].isna(),
         "MISSING_FIELD", "lead_id, supplier_id, event and at are required"),
        (rows["event"].notna() & ~rows["event"].isin(EVENT_NAMES),
         "UNKNOWN_EVENT", "unknown event (expected one of: " + ", ".join(e.value for e in OutcomeEventType) + ")"),
        (frame["at"].notna() & rows["at"].isna(), "INVALID_AT",
         "unreadable 'at' (expected ISO 8601 or dd/mm/yyyy HH:MM, local time unless an offset is given)"),
        (amounts["invalid"], "INVALID_AMOUNT", "unreadable amount_eur"),
    ]
    rows["refusal"] = None
    for mask, rule, message in reversed(checks):  # the first failing check names the row's refusal
        rows.loc[mask.to_numpy(), "refusal"] = pd.Series([(rule, message)] * int(mask.sum()),
                                                         index=rows.index[mask.to_numpy()], dtype=object)
    return rows


def _refuse(rows: pd.DataFrame, mask: pd.Series, rule: str, messages: pd.Series | str) -> None:
    """Give ``rule`` to the rows of ``mask`` not refused yet (the first rule that fails is named)."""
    mask = mask & rows["refusal"].isna()
    if not mask.any():
        return
    texts = messages[mask] if isinstance(messages, pd.Series) else pd.Series(messages, index=rows.index[mask])
    rows.loc[mask, "refusal"] = pd.Series([(rule, t) for t in texts], index=rows.index[mask], dtype=object)


def check_rows(rows: pd.DataFrame, leads: pd.DataFrame, suppliers: frozenset[str],
               contracts: dict[int, Contract], stored: pd.DataFrame) -> pd.DataFrame:
    """Rows (from ``parse_rows``) with ``lead_pk`` and their fate: ``refusal`` (rule, message)
    or ``duplicate`` (already stored, or repeated earlier in the file), else stored.

    ``leads``: what ``outcome_store.leads_named`` found; ``contracts``: the contract each
    lead's delivery ran under, by version id; ``stored``: the events already stored for them.
    """
    if rows.empty:  # a header-only export: nothing to check (and nothing for pandas to merge on)
        return rows.assign(lead_pk=pd.array([], dtype="Int64"), duplicate=pd.Series([], dtype=bool),
                           status=None, delivered_on=None, contract_version_id=None)
    rows = rows.merge(leads, on=["supplier_id", "lead_id"], how="left", suffixes=("", "_lead"))
    rows["lead_pk"] = rows["lead_pk"].astype("Int64")
    delivered = pd.to_datetime(rows["delivered_on"])
    _refuse(rows, ~rows["supplier_id"].isin(suppliers), "UNKNOWN_SUPPLIER",
            "unknown supplier " + rows["supplier_id"].astype(str))
    _refuse(rows, rows["lead_pk"].isna(), "UNKNOWN_LEAD",
            "no lead " + rows["lead_id"].astype(str) + " delivered by " + rows["supplier_id"].astype(str))
    _refuse(rows, rows["day"] < delivered, "BEFORE_DELIVERY",
            "event dated before the lead's delivery on " + delivered.dt.strftime("%Y-%m-%d"))

    key = ["lead_pk", "event", "at"]
    already = rows[key].merge(stored.assign(_stored=True), on=key, how="left")["_stored"].fillna(False).to_numpy(bool)
    rows["duplicate"] = rows["refusal"].isna() & already
    _check_contests(rows, contracts)
    ok = rows["refusal"].isna() & ~rows["duplicate"]  # a refused row repeated is refused again, on its own line
    rows["duplicate"] |= ok & rows[ok].duplicated(key).reindex(rows.index, fill_value=False)
    _check_contested_once(rows, stored)
    return rows


def _check_contests(rows: pd.DataFrame, contracts: dict[int, Contract]) -> None:
    """The contest rules (docs/governance-rules.md, Contests), on the contest rows still standing."""
    contest = (rows["event"] == OutcomeEventType.CONTEST.value) & rows["refusal"].isna() & ~rows["duplicate"]
    if not contest.any():
        return
    terms = rows["contract_version_id"].map(lambda v: contracts[int(v)].replacement if pd.notna(v) else None)
    window = terms.map(lambda t: t.contest_window_days if t is not None else 0)
    last_day = pd.to_datetime(rows["delivered_on"]) + pd.to_timedelta(window, unit="D")
    listed = [r in (t.contest_reasons if t is not None else ())
              for r, t in zip(rows["contest_reason"], terms, strict=True)]
    _refuse(rows, contest & (rows["status"] == LeadStatus.REJECTED.value), "CONTEST_REJECTED_LEAD",
            "the lead was rejected at delivery (its replacement claim was opened then)")
    _refuse(rows, contest & rows["contest_reason"].isna(), "CONTEST_REASON", "a contest needs a contest_reason")
    _refuse(rows, contest & ~pd.Series(listed, index=rows.index), "CONTEST_REASON",
            "contest_reason " + rows["contest_reason"].astype(str) + " is not among the contract's contest_reasons ("
            + terms.map(lambda t: ", ".join(t.contest_reasons) if t is not None else "") + ")")
    _refuse(rows, contest & (rows["day"] > last_day), "CONTEST_LATE",
            "contest after the contest window: the last day was " + last_day.dt.strftime("%Y-%m-%d"))


def _check_contested_once(rows: pd.DataFrame, stored: pd.DataFrame) -> None:
    """A lead is contested once: a later contest (another time) of a contested lead is refused."""
    contest = (rows["event"] == OutcomeEventType.CONTEST.value) & rows["refusal"].isna() & ~rows["duplicate"]
    before = set(stored.loc[stored["event"] == OutcomeEventType.CONTEST.value, "lead_pk"].astype(int))
    standing = contest & rows["refusal"].isna()
    again = standing & (rows["lead_pk"].isin(before) | rows[standing].duplicated("lead_pk").reindex(
        rows.index, fill_value=False))
    _refuse(rows, again, "ALREADY_CONTESTED", "the lead is already contested")


def contracts_by_version(session: Session, version_ids: Iterable[int]) -> dict[int, Contract]:
    """The contracts the leads' deliveries ran under, parsed from their stored text."""
    return {vid: _parse(text, path) for vid, (text, path) in outcome_store.contract_texts(session, version_ids).items()}


@lru_cache(maxsize=64)
def _parse(text: str, path: str) -> Contract:
    return parse_contract(text, path).contract


def store_rows(session: Session, rows: pd.DataFrame, source: str, *,
               recorded_by: str | None = None) -> tuple[OutcomeImport, list[int]]:
    """Check parsed rows against the database and store the good ones with their contests' claims,
    each event with who recorded it (``recorded_by``: the person, or who ran the import)."""
    pairs = rows.loc[rows["refusal"].isna(), ["supplier_id", "lead_id"]].itertuples(index=False, name=None)
    leads = outcome_store.leads_named(session, pairs)
    contracts = contracts_by_version(session, leads["contract_version_id"].dropna().unique())
    stored = outcome_store.stored_events(session, leads["lead_pk"])
    checked = check_rows(rows, leads, outcome_store.known_suppliers(session), contracts, stored)
    keep = checked[checked["refusal"].isna() & ~checked["duplicate"]].copy()
    keep["lead_pk"] = keep["lead_pk"].astype("int64")
    outcome_store.insert_events(session, keep, source, recorded_by)
    contests = keep[keep["event"] == OutcomeEventType.CONTEST.value]
    changes = ClaimChanges()
    for supplier_id, group in contests.groupby("supplier_id"):
        contract = contracts[int(group["contract_version_id"].iloc[-1])]
        candidates = claim_candidates(group.sort_values(["day", "row"]), ClaimOrigin.CONTEST,
                                      reason="contest_reason", opened_on="day")
        opened = open_claims(session, str(supplier_id), candidates, contract)
        changes = ClaimChanges(changes.opened + opened.opened, changes.not_owed_cap + opened.not_owed_cap)
    refused = checked[checked["refusal"].notna()]
    refusals = [Refusal(None, rule, message) for rule, message in refused["refusal"]]
    contested = tuple(
        StoredContest(supplier_id=row["supplier_id"], lead_id=row["lead_id"], contest_reason=row["contest_reason"],
                      delivered_on=row["delivered_on"])
        for row in contests[["supplier_id", "lead_id", "contest_reason", "delivered_on"]].to_dict("records")
    )
    result = OutcomeImport(source, len(rows), len(keep), int(checked["duplicate"].sum()), refusals,
                           len(contests), changes, contested)
    return result, refused["row"].tolist()


def import_outcomes(session: Session, data: bytes, source: str, tz: str, *,
                    recorded_by: str | None = None) -> OutcomeImport:
    """Read, check and store an outcome export in the caller's transaction; refused rows are
    listed with their file line (a re-scan of the file, done only when something is refused)."""
    frame, _, delimiter = read_outcomes_export(data, source=source)
    result, refused_rows = store_rows(session, parse_rows(frame, tz), source, recorded_by=recorded_by)
    if refused_rows:
        lines = record_lines(data, delimiter)
        refusals = [Refusal(lines[r] if r < len(lines) else None, x.rule, x.message)
                    for r, x in zip(refused_rows, result.refusals, strict=True)]
        result = replace(result, refusals=refusals)
    return result


def contest_row(
    lead_id: str, supplier_id: str, reason: str, at: datetime | str, note: str | None, tz: str
) -> pd.DataFrame:
    """One ``contest`` event typed like a file row, for ``leadgov contest``."""
    text = at.isoformat() if isinstance(at, datetime) else str(at)
    frame = pd.DataFrame({"lead_id": [lead_id], "supplier_id": [supplier_id], "event": ["contest"], "at": [text],
                          "contest_reason": [reason], "amount_eur": [None], "objection": [None], "note": [note]},
                         dtype="str")
    return parse_rows(frame, tz)
