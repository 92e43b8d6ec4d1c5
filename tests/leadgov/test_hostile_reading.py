"""Hostile input (issue 16): what independent probes got through the readers and the inbox.

- A small file that exhausts the memory: a header of delimiters, short rows padded to a wide
  header, long header names repeated in every raw record, JSON records with different keys. Each is
  refused (exit 2, the file and the line named) and the memory a read takes stays bounded, measured
  as the peak RSS of a subprocess.
- A deeply nested JSON file (2 KB): refused, not a RecursionError.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from factories import BASE_CONTRACT, DELIVERED_ON, contract_dict, lead, make_contract_file, to_csv
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadgov.cli import app
from leadgov.models import Delivery
from leadgov.models.db import session_scope
from leadgov.reading import ReadOptions, UnreadableFile, read_delivery
from leadgov.reading.limits import FREE_CELLS, MAX_COLUMNS, MAX_JSON_DEPTH

runner = CliRunner()
ACME = make_contract_file()
COLUMNS = dict(ACME.contract.delivery.columns)


def csv_of(*numbers: int, **overrides: str) -> bytes:
    return to_csv([lead(n, **overrides) for n in numbers], COLUMNS).encode()


def refusal(data: bytes, options: ReadOptions | None = None, source: str = "hostile.csv") -> UnreadableFile:
    with pytest.raises(UnreadableFile) as caught:
        read_delivery(data, options or ReadOptions(), source=source)
    return caught.value


# --- memory: a small file may not exhaust it ------------------------------------------------------

#: What a read may add to the peak RSS of a process that has loaded leadgov and the file. Each hostile
#: file below took 400 MB to 1.2 GB before the bounds (and 1 to 15 s); a refused one takes a few MB.
MEMORY_MARGIN_MB = 100

_MEASURE = textwrap.dedent("""
    import gc, json, resource, sys
    from leadgov.reading import ReadOptions, UnreadableFile, read_delivery
    data = open(sys.argv[1], "rb").read()
    options = ReadOptions(format=sys.argv[2])
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        read_delivery(data, options, source="hostile." + sys.argv[2])
        outcome = "read"
    except UnreadableFile as exc:
        outcome = str(exc)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"outcome": outcome, "added_mb": (after - before) / 1024}))
""")


def read_in_subprocess(tmp_path: Path, data: bytes, fmt: str = "csv") -> tuple[str, float]:
    """(the refusal, or "read"; the MB the read added to the peak RSS) of reading ``data`` in a fresh
    Python: the peak is the process's own, whatever allocator (Arrow's, pandas', Python's) took it."""
    path = tmp_path / f"hostile.{fmt}"
    path.write_bytes(data)
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(path), fmt], capture_output=True, text=True,
                          timeout=300, check=True)
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return measured["outcome"], measured["added_mb"]


def header_of_delimiters() -> bytes:
    """20 KB of ';': 20,001 columns (about 220 MB in Arrow's reader before the bound; 100 KB took 1.1 GB)."""
    return b";" * 20_000 + b"\n"


def short_rows_under_a_wide_header() -> bytes:
    """1,000 header names over 20,000 rows of one cell (45 KB): 20 million padded cells."""
    return ";".join(f"c{i}" for i in range(MAX_COLUMNS)).encode() + b"\n" + b"x\n" * 20_000


def long_header_names() -> bytes:
    """Two 20,000-character header names over 20,000 short rows (120 KB): every raw record repeats them."""
    return ("a" * 20_000 + ";" + "b" * 20_000 + "\n").encode() + b"x;\n" * 20_000


def json_records_with_different_keys() -> bytes:
    """5,000 JSON records of one key each, every key new (70 KB): 5,000 columns of 5,000 cells."""
    return b"".join(b'{"k%d":"v"}\n' % i for i in range(5_000))


@pytest.mark.parametrize(("make", "fmt", "expected"), [
    (header_of_delimiters, "csv", "hostile.csv, line 1: 20,001 columns (header cells or JSON keys), more than the "
                                  "1,000 a file may have"),
    (short_rows_under_a_wide_header, "csv", "hostile.csv, line 1: "),
    (long_header_names, "csv", "hostile.csv, line 1: its 20,000 rows, each naming every header, would take"),
    (json_records_with_different_keys, "json", "hostile.json, line 1001: 1,001 columns"),
])
def test_a_small_hostile_file_is_refused_within_bounded_memory(tmp_path, make, fmt, expected):
    outcome, added_mb = read_in_subprocess(tmp_path, make(), fmt)
    assert outcome.startswith(expected), outcome
    assert added_mb < MEMORY_MARGIN_MB, f"reading took {added_mb:.0f} MB more: {outcome}"


def test_short_rows_name_the_rule_they_break():
    error = refusal(short_rows_under_a_wide_header())
    assert error.line == 1 and "rows of 1,000 columns make more than the" in error.problem
    assert "rows far shorter than the header" in error.problem


def test_the_bounds_leave_ordinary_files_alone():
    """At the bounds: 1,000 columns, full rows, long but sane header names, JSON with a few keys absent."""
    wide = ";".join(f"c{i}" for i in range(MAX_COLUMNS)).encode() + b"\n"
    wide += b"\n".join(";".join(f"v{r}.{i}" for i in range(MAX_COLUMNS)).encode() for r in range(50)) + b"\n"
    assert len(read_delivery(wide, ReadOptions(), source="wide.csv").raw_records) == 50
    assert "columns" in refusal(wide.replace(b"\n", b";c1000\n", 1), source="wide.csv").problem
    # short rows (trailing empty cells left out) are padded as before, within the cells a file may hold
    short = csv_of(1).split(b"\n")[0] + b"\n" + b"L-1;2027-02-27;Nexalog SAS\n" * 100_000
    assert len(read_delivery(short, ReadOptions(), source="short.csv").frame) == 100_000
    sparse = b"".join(json.dumps({"lead_id": f"L{i}", **({"email": "a@b.fr"} if i % 2 else {})}).encode() + b"\n"
                      for i in range(30_000))
    assert len(read_delivery(sparse, ReadOptions(format="json"), source="s.json").frame) == 30_000


def test_a_json_file_at_the_column_bound_is_read_and_one_key_more_is_refused():
    at_bound = json.dumps({f"k{i}": "v" for i in range(MAX_COLUMNS)}).encode()
    assert len(read_delivery(at_bound, ReadOptions(format="json"), source="j.json").frame) == 1
    error = refusal(at_bound + b'\n{"one more": 1}\n', ReadOptions(format="json"), source="j.json")
    assert error.line == 2 and "1,001 columns" in error.problem


def test_json_records_padded_to_many_keys_are_refused_naming_the_record():
    first = json.dumps({f"k{i}": "v" for i in range(900)}).encode() + b"\n"
    data = first + b'{"k0":1}\n' * 2_000  # 2,001 records of 900 keys: 1.8 million cells from 26 KB
    error = refusal(data, ReadOptions(format="json"), source="j.json")
    assert "cells a file of" in error.problem and error.line is not None and error.line > FREE_CELLS // 900


def test_cli_validate_refuses_a_header_of_delimiters_with_exit_2(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes(header_of_delimiters())
    result = cli_validate(tmp_path, BASE_CONTRACT, path)
    assert result.exit_code == 2, result.output
    assert error_lines(result.output) == ["error: wide.csv, line 1: 20,001 columns (header cells or JSON keys), "
                                          "more than the 1,000 a file may have (a malformed header?)"]


# --- deeply nested JSON -----------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    """A record whose value nests ``depth`` levels counting the record: [[[...]]] inside {"lead_id": ...}."""
    return b'{"lead_id":' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


@pytest.mark.parametrize("data", [
    b"[" * 2_000,                                   # the probe: 2 KB of '['
    b"[" + nested(1_000) + b"]",                     # in an array, valid JSON
    b'{"lead_id":"L1"}\n' + nested(1_000) + b"\n",   # JSON Lines, on line 2
    b'{"a":' * 700 + b"1" + b"}" * 700,              # objects in objects
])
def test_deeply_nested_json_is_refused_not_crashed(data):
    error = refusal(data, ReadOptions(format="json"), source="deep.json")
    assert f"more than {MAX_JSON_DEPTH} levels deep" in error.problem and error.line is not None


def test_nesting_up_to_the_bound_is_read_and_one_level_more_is_refused():
    frame = read_delivery(nested(MAX_JSON_DEPTH), ReadOptions(format="json"), source="ok.json").frame
    assert frame.at[0, "lead_id"] == "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    error = refusal(b'{"lead_id":"L1"}\n' + nested(MAX_JSON_DEPTH + 1), ReadOptions(format="json"),
                    source="d.json")
    assert error.line == 2


def test_cli_validate_refuses_a_deeply_nested_json_file_with_exit_2(tmp_path):
    contract = write_contract(tmp_path, **{"delivery.format": "json"})
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 2_000)
    result = cli_validate(tmp_path, contract, path)
    assert result.exit_code == 2, result.output
    assert error_lines(result.output) == ["error: deep.json, line 1: a record nests arrays or objects more than "
                                          f"{MAX_JSON_DEPTH} levels deep"]
    with session_scope(f"sqlite:///{tmp_path / 'v.db'}") as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0


# --- helpers ------------------------------------------------------------------------------------------


def write_contract(folder: Path, name: str = "contract.yaml", **overrides) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(contract_dict(**overrides), allow_unicode=True), encoding="utf-8")
    return path


def cli_validate(folder: Path, contract: Path, delivery: Path):
    return runner.invoke(app, ["validate", "--contract", str(contract), "--delivery", str(delivery),
                               "--delivered-on", DELIVERED_ON.isoformat(), "--out", str(folder / "result.csv"),
                               "--db", f"sqlite:///{folder / 'v.db'}"])


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]
