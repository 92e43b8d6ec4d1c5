"""The validate_delivery flow under Prefect: same verdicts as the domain, stored once, artifacts published."""

import asyncio
from datetime import date

import pandas as pd
from factories import BASE_CONTRACT, DELIVERED_ON, delivery_file, lead
from prefect.client.orchestration import get_client

from leadgov.flows.validate_delivery import DeliveryParameters, validate_delivery


def write_delivery(folder, rows):
    file = delivery_file(rows)
    path = folder / "acme-2027-03-01.csv"
    path.write_bytes(file.take())
    return path


async def latest_artifact(key: str):
    async with get_client() as client:
        return await client.read_latest_artifacts(limit=50)


def test_flow_validates_stores_and_publishes(leadgov_env):
    path = write_delivery(leadgov_env, [lead(1), lead(2, employees="1"), lead(3, email=lead(1)["email"])])
    request = DeliveryParameters(contract_path=str(BASE_CONTRACT), delivery_path=str(path),
                              delivered_on=DELIVERED_ON, out_dir=str(leadgov_env / "out"))
    summary = validate_delivery(request)
    assert (summary["delivered"], summary["accepted"], summary["rejected"]) == (3, 1, 2)
    assert summary["reasons"] == {"DUPLICATE_IN_DELIVERY": 1, "OUT_OF_TARGET_SIZE": 1}
    result = pd.read_csv(summary["result_file"], sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert result["reasons"].tolist() == ["", "OUT_OF_TARGET_SIZE", "DUPLICATE_IN_DELIVERY"]

    again = validate_delivery(request)
    assert again["already_ingested"] and again["delivery_id"] == summary["delivery_id"]

    artifacts = asyncio.run(latest_artifact("delivery-acme-leads-summary"))
    keys = {a.key for a in artifacts}
    assert {"delivery-acme-leads-summary", "delivery-acme-leads-reasons"} <= keys
    summary_artifact = next(a for a in artifacts if a.key == "delivery-acme-leads-summary")
    assert "| 3 | 1 | 2 | 0 |" in summary_artifact.data
    assert "camille" not in summary_artifact.data.lower()


def test_flow_fails_on_a_day_outside_the_contracts_period_and_stores_nothing(leadgov_env):
    """The example contract runs 2027-01-01 to 2027-12-31: a delivery of 2028-01-01 fails the flow run
    with the refusal; the same file on the period's last day is then stored, the first one."""
    path = write_delivery(leadgov_env, [lead(1)])
    request = DeliveryParameters(contract_path=str(BASE_CONTRACT), delivery_path=str(path),
                                 delivered_on=date(2028, 1, 1), out_dir=str(leadgov_env / "out"))
    state = validate_delivery(request, return_state=True)
    assert state.is_failed(), state
    assert ("delivered on 2028-01-01, after the period of contract ACME-2027-01 of acme-leads, "
            "2027-01-01 to 2027-12-31; nothing was stored") in state.message, state.message
    assert not list((leadgov_env / "out").glob("**/*.csv"))
    summary = validate_delivery(request.model_copy(update={"delivered_on": date(2027, 12, 31)}))
    assert summary["delivery_id"] == 1 and not summary["already_ingested"]


def test_flow_parameters_make_a_form():
    schema = validate_delivery.parameters.model_dump()
    request = schema["definitions"]["DeliveryParameters"]
    assert request["properties"]["delivered_on"]["format"] == "date"
    assert "never taken from the clock" in request["properties"]["delivered_on"]["description"]
