"""The files a delivery produces: the result file (every row) and the supplier's return file.

Both are CSV for a spreadsheet: UTF-8 with a BOM so Excel reads accents, ``;`` as delimiter for
French contracts and ``,`` for English ones, and no cell a spreadsheet would run as a formula
(written through ``leadgov.csv_out``, like every CSV leadgov writes).
"""

import errno
import tempfile
from pathlib import Path

import pandas as pd

from leadgov.csv_out import FORMULA_START, write_frame
from leadgov.explanations import explain
from leadgov.validation.engine import RESULT_COLUMNS

__all__ = ["FORMULA_START", "return_frame", "write_result_file", "write_return_file"]

DELIMITERS = {"fr": ";", "en": ","}
RETURN_HEADERS = {
    "fr": {"row_number": "ligne", "lead_id": "lead_id", "status": "statut", "reasons": "motifs",
           "explanation": "explication", "details": "détails"},
    "en": {"row_number": "row_number", "lead_id": "lead_id", "status": "status", "reasons": "reasons",
           "explanation": "explanation", "details": "details"},
}
#: The status column of the return file, in the contract's language: rejected, or waiting for the
#: buyer's review (docs/validation-rules.md, Review tier).
RETURN_STATUSES = {
    "fr": {"rejected": "rejeté", "review": "en revue"},
    "en": {"rejected": "rejected", "review": "in review"},
}


def probe_folder(folder: Path) -> None:
    """Raise the ``OSError`` that creating a file in ``folder`` would raise: the folder is created
    when missing, then a temporary file is created in it and removed."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=folder):
        return


def probe_writable(path: Path) -> None:
    """Raise the ``OSError`` that writing ``path`` would raise, without changing it: an existing
    file is opened for appending (nothing added), else its folder is probed."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "it is a folder, not a file", str(path))
    if path.exists():
        with path.open("ab"):
            return
    probe_folder(path.parent)


def _write(frame: pd.DataFrame, path: Path, locale: str) -> Path:
    return write_frame(frame, path, delimiter=DELIMITERS[locale])


def write_result_file(verdicts: pd.DataFrame, path: Path, locale: str = "en") -> Path:
    """The result of docs/deliveries.md: one row per delivered row, in file order."""
    return _write(verdicts.loc[:, list(RESULT_COLUMNS)], path, locale)


def return_frame(verdicts: pd.DataFrame, locale: str) -> pd.DataFrame:
    """The rejected leads and those in review, in file order, with their status, codes and a plain
    explanation in the contract's locale."""
    rejected = verdicts[verdicts["status"].isin(RETURN_STATUSES[locale].keys())]
    frame = pd.DataFrame({
        "row_number": rejected["row_number"],
        "lead_id": rejected["lead_id"],
        "status": rejected["status"].map(RETURN_STATUSES[locale]),
        "reasons": rejected["reasons"],
        "explanation": rejected["reasons"].map({c: explain(c, locale) for c in rejected["reasons"].unique()}),
        "details": rejected["details"],
    })
    return frame.rename(columns=RETURN_HEADERS[locale])


def write_return_file(verdicts: pd.DataFrame, path: Path, locale: str) -> Path:
    """The supplier's return file: what was rejected or waits for review, and why."""
    return _write(return_frame(verdicts, locale), path, locale)
