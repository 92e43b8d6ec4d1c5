"""Hostile input (issue 16): what independent probes got through the readers and the inbox.

- A small file that exhausts the memory: a header of delimiters, short rows padded to a wide
  header, long header names repeated in every raw record, JSON records with different keys. Each is
  refused (exit 2, the file and the line named) and the memory a read takes stays bounded, measured
  as the peak RSS of a subprocess.
- A deeply nested JSON file (2 KB): refused, not a RecursionError.
- An inbox: a link, a pipe or a planted filing folder is refused, never followed; an unexpected error
  on one file sets it aside in failed/ and the supplier's next files are processed.
- A newline in a file name cannot forge a line of a message.
"""

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path

import databases
import pytest
import yaml
from factories import BASE_CONTRACT, DELIVERED_ON, HMAC_KEY, contract_dict, lead, make_contract_file, to_csv
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from leadgov.cli import app
from leadgov.config.settings import Settings
from leadgov.ingest import DeliveryFile
from leadgov.models import Delivery, Lead
from leadgov.models.db import session_scope
from leadgov.reading import ReadOptions, UnreadableFile, read_delivery
from leadgov.reading.limits import FREE_CELLS, MAX_COLUMNS, MAX_JSON_DEPTH
from leadgov.services import deliveries
from leadgov.services.inbox import FileStatus, InboxRequest, process_inbox
from leadgov.services.runtime import FixedClock, OutboxNotifier, build_runtime

runner = CliRunner()
ACME = make_contract_file()
COLUMNS = dict(ACME.contract.delivery.columns)
NO_CRM = {"exclusions.crm_check": False}
SECRET_EMAIL = "zoe.secret-person@nexalog.fr"


def csv_of(*numbers: int, **overrides: str) -> bytes:
    return to_csv([lead(n, **overrides) for n in numbers], COLUMNS).encode()


def refusal(data: bytes, options: ReadOptions | None = None, source: str = "hostile.csv") -> UnreadableFile:
    with pytest.raises(UnreadableFile) as caught:
        read_delivery(data, options or ReadOptions(), source=source)
    return caught.value


def within(seconds: float, func, *args):
    """``func(*args)``, failing instead of hanging the suite if it takes longer than ``seconds``."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(func, *args).result(timeout=seconds)
    finally:
        pool.shutdown(wait=False)


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


# --- the inbox ----------------------------------------------------------------------------------------


class Inbox:
    """An inbox of one supplier (acme-leads, no CRM check), its contract, a database and a runtime."""

    def __init__(self, root: Path, sqlite_template: Path) -> None:
        self.root = root
        self.url = databases.copy_sqlite_template(sqlite_template, root / "leadgov.db")
        self.contracts = write_contract(root, name="contracts/acme-leads.yaml", **NO_CRM).parent
        self.folder = root / "inbox" / "acme-leads"
        self.folder.mkdir(parents=True)
        self.settings = Settings(_env_file=None, database_url=self.url, hmac_key=HMAC_KEY, crm_export=None,
                                 output_dir=root / "out")

    def run(self):
        runtime = build_runtime(self.settings, clock=FixedClock(date(2027, 3, 2)), notifier=OutboxNotifier(None),
                                migrate=False)
        return process_inbox(runtime, InboxRequest.with_defaults(
            self.settings, inbox_dir=self.root / "inbox", contracts_dir=self.contracts, delivered_on=DELIVERED_ON))

    def cli(self):
        """``leadgov inbox run``, whose day is each file's modification date: the regular files are dated
        DELIVERED_ON, within the contract's period."""
        stamp = datetime(DELIVERED_ON.year, DELIVERED_ON.month, DELIVERED_ON.day, 12).timestamp()
        for path in self.folder.iterdir():
            if path.is_file() and not path.is_symlink():
                os.utime(path, (stamp, stamp))
        return runner.invoke(app, ["inbox", "run", "--inbox", str(self.root / "inbox"), "--contracts",
                                   str(self.contracts), "--out", str(self.root / "out"), "--db", self.url])

    def stored(self) -> list[str]:
        with session_scope(self.url) as session:
            return list(session.scalars(select(Delivery.file_name).order_by(Delivery.file_name)))

    def emails(self) -> list[str]:
        with session_scope(self.url) as session:
            return list(session.scalars(select(Lead.email).order_by(Lead.email)))

    def listing(self) -> list[str]:
        return sorted(str(p.relative_to(self.folder)) for p in self.folder.rglob("*"))


@pytest.fixture
def inbox(tmp_path, sqlite_template) -> Inbox:
    return Inbox(tmp_path, sqlite_template)


@pytest.fixture
def secret(tmp_path) -> Path:
    """A file outside the inbox that the worker can read (and that would pass as a delivery)."""
    path = tmp_path / "elsewhere" / "secret.csv"
    path.parent.mkdir()
    path.write_bytes(csv_of(90, email=SECRET_EMAIL))
    return path


def test_a_link_in_the_inbox_is_refused_never_followed(inbox, secret):
    (inbox.folder / "a.csv").write_bytes(csv_of(1))
    (inbox.folder / "b-link.csv").symlink_to(secret)
    (inbox.folder / "c-to-a-folder").symlink_to(secret.parent, target_is_directory=True)

    result = inbox.run()

    assert [(f.file, f.status) for f in result.files] == [
        ("a.csv", FileStatus.processed), ("b-link.csv", FileStatus.refused), ("c-to-a-folder", FileStatus.refused)]
    assert inbox.stored() == ["a.csv"] and SECRET_EMAIL not in inbox.emails()
    moved = inbox.folder / "refused" / "b-link.csv"
    assert moved.is_symlink() and moved.readlink() == secret  # the link itself was filed, not its target
    assert secret.read_bytes() == csv_of(90, email=SECRET_EMAIL)
    reason = (inbox.folder / "refused" / "b-link.csv.reason.txt").read_text(encoding="utf-8")
    assert "b-link.csv: a symbolic link, not a delivered file: refused without following it" in reason
    assert SECRET_EMAIL not in reason and "secret" not in reason


def test_a_pipe_in_the_inbox_is_refused_without_being_opened(inbox):
    os.mkfifo(inbox.folder / "a-pipe.csv")  # opening it for reading would wait for a writer forever
    (inbox.folder / "b.csv").write_bytes(csv_of(1))

    result = within(60, inbox.run)

    assert [(f.file, f.status) for f in result.files] == [("a-pipe.csv", FileStatus.refused),
                                                          ("b.csv", FileStatus.processed)]
    assert "not a regular file (a pipe, a socket or a device)" in result.files[0].reason
    assert inbox.stored() == ["b.csv"]


def test_a_file_swapped_for_a_link_after_the_listing_is_refused(inbox, secret, monkeypatch):
    """The supplier's files are listed once; while the first is processed, the second becomes a link."""
    (inbox.folder / "a.csv").write_bytes(csv_of(1))
    (inbox.folder / "b.csv").write_bytes(csv_of(2))
    check = deliveries.check_delivery

    def swap_then_check(file, *args, **kwargs):
        if file.file_name == "a.csv":
            (inbox.folder / "b.csv").unlink()
            (inbox.folder / "b.csv").symlink_to(secret)
        return check(file, *args, **kwargs)

    monkeypatch.setattr(deliveries, "check_delivery", swap_then_check)
    result = inbox.run()

    assert [(f.file, f.status) for f in result.files] == [("a.csv", FileStatus.processed),
                                                          ("b.csv", FileStatus.refused)]
    assert inbox.stored() == ["a.csv"] and SECRET_EMAIL not in inbox.emails()


def test_a_link_in_place_of_a_filing_folder_moves_nothing_out_of_the_inbox(inbox, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (inbox.folder / "refused").symlink_to(outside, target_is_directory=True)
    (inbox.folder / "garbage.csv").write_bytes(b"\x81\x8d\x8f\x90\x9d;x\n")

    result = inbox.run()

    assert list(outside.iterdir()) == []
    assert (inbox.folder / "garbage.csv").is_file()  # it waits for the next run
    [supplier] = result.suppliers
    assert supplier.error is not None and "refused is not a folder (a link?)" in supplier.error


def test_a_reason_file_is_never_written_through_a_planted_link(inbox, tmp_path):
    target = tmp_path / "created-by-the-worker"
    (inbox.folder / "refused").mkdir()
    (inbox.folder / "refused" / "garbage.csv.reason.txt").symlink_to(target)  # dangling: writing would create it
    (inbox.folder / "garbage.csv").write_bytes(b"\x81\x8d\x8f\x90\x9d;x\n")

    [outcome] = inbox.run().files

    assert outcome.status is FileStatus.refused and not target.exists()
    assert outcome.moved_to == inbox.folder / "refused" / "garbage.2.csv"
    assert (inbox.folder / "refused" / "garbage.2.csv.reason.txt").is_file()


def test_validate_still_reads_a_file_through_a_link_given_on_the_command_line(tmp_path, secret):
    """Only the inbox refuses links: an operator naming a file chooses it."""
    link = tmp_path / "link.csv"
    link.symlink_to(secret)
    assert DeliveryFile.from_path(link, DELIVERED_ON, 10**6).take() == secret.read_bytes()
    with pytest.raises(UnreadableFile, match="symbolic link"):
        DeliveryFile.from_path(link, DELIVERED_ON, 10**6, follow_links=False)


def fault_on(name: str, error: Exception):
    """``check_delivery`` (the pure half of a delivery) raising ``error`` for the file ``name``."""
    check = deliveries.check_delivery

    def faulty(file, *args, **kwargs):
        if file.file_name == name:
            raise error
        return check(file, *args, **kwargs)

    return faulty


def test_an_unexpected_error_sets_the_file_aside_and_the_next_files_are_processed(inbox, monkeypatch):
    for n, name in enumerate(("a.csv", "b.csv", "c.csv"), start=1):
        (inbox.folder / name).write_bytes(csv_of(n))
    monkeypatch.setattr(deliveries, "check_delivery",
                        fault_on("b.csv", RuntimeError(f"injected fault near {SECRET_EMAIL}")))

    result = inbox.run()

    assert [(f.file, f.status) for f in result.files] == [
        ("a.csv", FileStatus.processed), ("b.csv", FileStatus.failed), ("c.csv", FileStatus.processed)]
    assert (result.processed, result.refused, result.failed, result.failed_suppliers) == (2, 0, 1, [])
    assert inbox.stored() == ["a.csv", "c.csv"]
    assert inbox.listing() == ["failed", "failed/b.csv", "failed/b.csv.reason.txt",
                               "processed", "processed/a.csv", "processed/c.csv"]
    reason = (inbox.folder / "failed" / "b.csv.reason.txt").read_text(encoding="utf-8")
    assert reason.startswith("b.csv could not be processed: an unexpected error")
    assert "RuntimeError: injected fault" in reason and "Traceback" in reason
    failed = result.files[1]
    assert failed.reason == "unexpected error (RuntimeError): set aside in failed/, see b.csv.reason.txt"

    # the database or the disk failing is not the file's fault: the supplier fails, its files wait
    (inbox.folder / "d.csv").write_bytes(csv_of(4))
    (inbox.folder / "e.csv").write_bytes(csv_of(5))
    monkeypatch.setattr(deliveries, "check_delivery",
                        fault_on("d.csv", OperationalError("SELECT 1", {}, Exception("connection refused"))))
    [supplier] = inbox.run().suppliers
    assert supplier.error is not None and supplier.error.startswith("OperationalError")
    assert [p for p in inbox.listing() if "/" not in p] == ["d.csv", "e.csv", "failed", "processed"]


def test_the_inbox_command_exits_1_when_a_file_was_set_aside(inbox, monkeypatch):
    (inbox.folder / "a.csv").write_bytes(csv_of(1))
    (inbox.folder / "b.csv").write_bytes(csv_of(2))
    monkeypatch.setattr(deliveries, "check_delivery", fault_on("a.csv", KeyError(SECRET_EMAIL)))

    result = inbox.cli()

    assert result.exit_code == 1, result.output
    assert "1 file processed, 0 refused, 1 failed (set aside in failed/)" in result.output
    assert SECRET_EMAIL not in result.output  # the error's message stays in the reason file
    assert inbox.stored() == ["b.csv"]


# --- a newline in a file name -------------------------------------------------------------------------


def test_a_newline_in_a_file_name_cannot_forge_a_line(inbox):
    forged = "x.csv\nerror: payroll.csv was stored\n"
    (inbox.folder / forged).write_bytes(b"\x81\x8d\x8f\x90\x9d;x\n")  # refused: its name is in the message

    result = inbox.cli()

    assert result.exit_code == 0, result.output
    assert not any(line.startswith("error:") for line in result.output.splitlines()), result.output
    assert "x.csv\\nerror: payroll.csv was stored\\n" in result.output
    reason = (inbox.folder / "refused" / (forged + ".reason.txt")).read_text(encoding="utf-8")
    assert len(reason.splitlines()) == 2 and reason.startswith("x.csv\\nerror:")


def test_a_refusal_message_escapes_the_control_characters_of_a_file_name():
    error = refusal(b"", source="a\rb\x1b[31m\u202ec.csv")
    assert str(error) == "a\\rb\\x1b[31m\\u202ec.csv: empty file"
    assert error.source == "a\rb\x1b[31m\u202ec.csv"  # the attribute keeps the name as it is


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
