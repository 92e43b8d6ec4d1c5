"""A lead id is the supplier's own reference, never a person's email or phone (docs/deliveries.md,
"Lead ids").

An erasure keeps a lead's ids: claims, outcomes, billing lines and the result files name the lead by
them. An id that is an email or a phone would identify the person after their erasure, so a file
holding one (as ``lead_id`` or ``replaces_lead_id``) is refused whole, naming the row and the column,
never the value. Such ids are a supplier's export setting, not one bad row: rejecting the rows would
still store the ids.

An id *is an email* when it is a valid email address (as the ``email`` field is read). It *is a
phone* when it is written like one (digits and phone punctuation only, an optional leading ``+``) and
either is written with a ``+``, ``00`` or a trunk ``0`` and reads as a valid phone of one of the
contract's ``phone_regions`` (as the ``phone`` field is read), or is the row's own phone (its last
8 digits or more). So ``0612345678``, ``+33 6 12 34 56 78`` and the row's ``612345678`` are refused,
while ``123456789``, ``0000123456`` or ``20270301`` stay ids.
"""

from collections.abc import Sequence

import pandas as pd

from leadgov.config.contract import Contract
from leadgov.normalise.emails import normalise_emails
from leadgov.normalise.phones import normalise_phones
from leadgov.reading import UnreadableFile

ID_FIELDS = ("lead_id", "replaces_lead_id")
#: Written like a phone number: digits and the punctuation of phone numbers, an optional leading "+".
_PHONE_SHAPE = r"\(?\+?[0-9 .\-/()]+"
#: Written internationally ("+", "00") or nationally with a trunk prefix ("0"), then a digit that can
#: start a country code or a national number (zero-padded ids such as "0000123" are not phones).
_PREFIXED = r"\(?(?:\+|00?)[ .\-/()]*[1-9]"
#: The fewest digits of an id that is the row's own phone written without its prefix.
_MIN_OWN_DIGITS = 8


def _is_email(ids: pd.Series) -> pd.Series:
    found = pd.Series(False, index=ids.index)
    candidates = ids[ids.str.contains("@", regex=False, na=False)]
    if len(candidates):
        found[candidates.index] = normalise_emails(candidates)["valid"].fillna(False).astype(bool)
    return found


def _is_own_phone(digits: pd.Series, own_phones: pd.Series) -> pd.Series:
    """Whether each id's digits end the row's own phone (E.164) and are enough to be a number
    (compared by length, a few vectorised passes rather than a loop over the rows)."""
    found = pd.Series(False, index=digits.index)
    lengths = digits.str.len()
    for length in lengths[lengths >= _MIN_OWN_DIGITS].unique():
        rows = lengths == length
        found[rows] = own_phones[rows].str.slice(-int(length)).eq(digits[rows]).fillna(False).astype(bool)
    return found


def _is_phone(ids: pd.Series, own_phones: pd.Series, regions: Sequence[str]) -> pd.Series:
    """Ids written with a prefix that read as a valid phone of ``regions``, or that are the row's own
    phone. Only the prefixed ids go to the phone library: a million numeric ids cost nothing."""
    found = pd.Series(False, index=ids.index)
    shaped = ids[ids.str.fullmatch(_PHONE_SHAPE, na=False).astype(bool)]
    if not len(shaped):
        return found
    found[shaped.index] = _is_own_phone(shaped.str.replace(r"[^0-9]", "", regex=True), own_phones[shaped.index])
    prefixed = shaped[shaped.str.match(_PREFIXED, na=False).astype(bool)]
    if len(prefixed):
        valid = normalise_phones(prefixed, list(regions))["valid"].fillna(False).astype(bool)
        found[prefixed.index] |= valid
    return found


def personal_ids(ids: pd.Series, own_phones: pd.Series, regions: Sequence[str]) -> pd.Series:
    """Which ids are an email address or a phone number (``own_phones``: each row's normalised phone)."""
    return _is_email(ids) | _is_phone(ids, own_phones, regions)


def refuse_personal_ids(values: pd.DataFrame, contract: Contract, source: str) -> None:
    """Refuse the file (``UnreadableFile``) at its first id that is an email or a phone: the row (as
    the result file numbers it) and the column, never the value."""
    first: tuple[int, str] | None = None
    for field in ID_FIELDS:
        found = personal_ids(values[field], values["phone"], contract.exploitability.phone_regions)
        if found.any():
            row = int(found.to_numpy().argmax()) + 1  # rows in file order, numbered from 1
            first = min(first, (row, field)) if first else (row, field)
    if first is None:
        return
    row, field = first
    headers = [header for header, name in contract.delivery.columns.items() if name == field]
    column = f'"{headers[0]}" ({field})' if headers else field
    raise UnreadableFile(source, f"row {row}, column {column}: a lead id must be the supplier's own reference, "
                                 "not an email address or a phone number (an erasure keeps the ids); "
                                 "nothing was stored")
