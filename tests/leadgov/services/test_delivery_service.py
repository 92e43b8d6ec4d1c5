"""The delivery service keeps no copy of the delivered bytes once they are read (272 MB at a million
leads)."""

import json
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml
from factories import contract_dict, lead, service_runtime, to_csv

from leadgov import ingest
from leadgov.services import deliveries
from leadgov.services.deliveries import DeliveryRequest, process_delivery
from leadgov.services.steps import run_directly

DAY = date(2027, 3, 1)


def write_delivery(folder: Path, fmt: str) -> tuple[Path, Path]:
    """A contract of ``fmt`` (csv or json) and a delivery of three leads in that format."""
    data = contract_dict(**{"exclusions.crm_check": False, "delivery.format": fmt})
    contract = folder / "acme-leads.yaml"
    contract.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    headers = dict(data["delivery"]["columns"])
    rows = [lead(1), lead(2), lead(3, email="bad")]
    delivery = folder / f"acme.{fmt}"
    if fmt == "csv":
        delivery.write_text(to_csv(rows, headers), encoding="utf-8")
    else:
        delivery.write_text(json.dumps(rows), encoding="utf-8")  # canonical names as keys
    return contract, delivery


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_nothing_holds_the_delivered_bytes_once_they_are_read(db_url, tmp_path, monkeypatch, fmt):
    """The read is handed the bytes (``DeliveryFile.take``) and nothing else keeps them: not the file
    the service still holds, not the checked delivery. So they are freed before the normalisation,
    which sets a large delivery's peak (a million leads: 272 MB of it)."""
    contract, delivery = write_delivery(tmp_path, fmt)
    held: dict[str, object] = {}
    read = ingest.read_delivery

    def read_keeping_a_reference(data, *args, **kwargs):
        held["data"] = data
        return read(data, *args, **kwargs)

    def runner(step, *args):
        result = run_directly(step, *args)
        if step is deliveries.check:
            # this dict's reference and getrefcount's argument: any other is someone keeping the bytes
            held["references"] = sys.getrefcount(held["data"]) - 2
            received = args[1]
            with pytest.raises(ValueError, match="already read"):
                received.file.take()
        return result

    monkeypatch.setattr(ingest, "read_delivery", read_keeping_a_reference)
    result = process_delivery(service_runtime(db_url, DAY), DeliveryRequest(contract, delivery, DAY), steps=runner)
    assert result.counts.delivered == 3 and result.counts.rejected == 1
    assert held["references"] == 0
