"""Demo outcome events: what our team did with each accepted lead, drawn from the supplier's
conversion profile (vectorised: one draw per stage for the whole delivery)."""

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from leadgov.demo.profiles import Conversion

OBJECTIONS = ("price", "timing", "already equipped", "no budget", "not the decision maker")


def _at(day: date, hours: np.ndarray) -> pd.Series:
    """Local timestamps ``hours`` after 00:00 on ``day`` (naive: the import reads them as local time)."""
    return pd.Series(pd.Timestamp(datetime(day.year, day.month, day.day)) + pd.to_timedelta(hours, unit="h"))


def events_for(supplier_id: str, lead_ids: list[str], day: date, conversion: Conversion, *, sla_hours: float,
               contest_window_days: int, seed: int) -> pd.DataFrame:
    """The events of one delivery's accepted leads (columns of an outcome export, plus ``at`` as a Timestamp)."""
    rng = np.random.default_rng(seed)
    ids = np.asarray(lead_ids, dtype=object)
    n = len(ids)
    if n == 0:
        return pd.DataFrame(columns=["lead_id", "supplier_id", "event", "at", "contest_reason", "amount_eur",
                                     "objection"])
    on_time = rng.random(n) < conversion.sla_met
    call = np.where(on_time, rng.uniform(9, max(9.5, sla_hours * 0.9), n),
                    rng.uniform(sla_hours + 2, sla_hours + 72, n))
    reached = rng.random(n) < conversion.reach
    booked = reached & (rng.random(n) < conversion.appointment)
    held = booked & (rng.random(n) < conversion.held)
    opportunity = held & (rng.random(n) < conversion.opportunity)
    won = opportunity & (rng.random(n) < conversion.won)
    lost = (reached & ~booked & (rng.random(n) < 0.5)) | (opportunity & ~won)
    contested = rng.random(n) < conversion.contest
    book_at = call + rng.uniform(2, 72, n)
    held_at = book_at + rng.uniform(48, 240, n)
    opp_at = held_at + rng.uniform(72, 360, n)
    won_at = opp_at + rng.uniform(240, 720, n)
    frames = [
        _events(ids, "call_attempt", _at(day, call)),
        _events(ids[reached], "reached", _at(day, call[reached] + 0.1)),
        _events(ids[booked], "appointment_set", _at(day, book_at[booked])),
        _events(ids[held], "appointment_held", _at(day, held_at[held])),
        _events(ids[opportunity], "opportunity", _at(day, opp_at[opportunity])),
        _events(ids[won], "won", _at(day, won_at[won]), amount_eur=rng.integers(5, 60, int(won.sum())) * 1000),
        _events(ids[lost], "lost", _at(day, np.maximum(call, opp_at * opportunity)[lost] + 1),
                objection=rng.choice(OBJECTIONS, int(lost.sum()))),
        _events(ids[contested], "contest",
                _at(day, rng.uniform(24, 24 * contest_window_days - 12, int(contested.sum()))),
                contest_reason=rng.choice(conversion.contest_reasons, int(contested.sum()))),
    ]
    events = pd.concat([f for f in frames if len(f)], ignore_index=True)
    events["supplier_id"] = supplier_id
    return events


def _events(ids: np.ndarray, event: str, at: pd.Series, **columns) -> pd.DataFrame:
    frame = pd.DataFrame({"lead_id": ids, "event": event, "at": at.to_numpy()})
    for name, values in columns.items():
        frame[name] = values
    return frame


def outcome_csv(events: pd.DataFrame) -> bytes:
    """The CRM export of these events (``at`` as local ISO timestamps)."""
    frame = events.copy()
    frame["at"] = pd.to_datetime(frame["at"]).dt.strftime("%Y-%m-%dT%H:%M:%S")
    columns = ["lead_id", "supplier_id", "event", "at", "contest_reason", "amount_eur", "objection"]
    for column in columns:
        if column not in frame:
            frame[column] = None
    return frame[columns].to_csv(index=False, sep=";").encode("utf-8")


def due(events: pd.DataFrame, before: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events known before ``before``, the rest)."""
    known = pd.to_datetime(events["at"]) < pd.Timestamp(before)
    return events[known], events[~known]


__all__ = ["due", "events_for", "outcome_csv", "timedelta"]
