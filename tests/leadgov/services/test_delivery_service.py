"""The delivery service lets go of the delivered bytes once they are read: the store, the stage that
sets a large delivery's peak memory, runs without them (272 MB at a million leads)."""

import json
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml
from factories import contract_dict, lead, service_runtime, to_csv

from leadgov.services import deliveries
from leadgov.services.deliveries import DeliveryRequest, ReceivedDelivery, process_delivery
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
def test_nothing_holds_the_delivered_bytes_when_the_store_runs(db_url, tmp_path, fmt):
    contract, delivery = write_delivery(tmp_path, fmt)
    held: dict[str, object] = {}

    def runner(step, *args):
        if step is deliveries.store:
            # this dict's reference and getrefcount's argument: any other is someone keeping the bytes
            held["references"] = sys.getrefcount(held["data"]) - 2
        result = run_directly(step, *args)
        if isinstance(result, ReceivedDelivery):
            held["data"] = result.file.data
        return result

    result = process_delivery(service_runtime(db_url, DAY), DeliveryRequest(contract, delivery, DAY), steps=runner)
    assert result.counts.delivered == 3 and result.counts.rejected == 1
    assert held["references"] == 0
