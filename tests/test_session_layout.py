"""The worker groups of a parallel run (tests/conftest.py ``worker_group``) name every test that
needs one: the tests sharing the demo's run, and every flow test sharing the Prefect harness. A
test missing from them would still pass, but rebuild the fixture in a second worker (minutes)."""

import pytest
from workers import OWN_SERVER, worker_group


def test_every_test_of_the_demo_shares_its_worker(request):
    using = [item.nodeid for item in request.session.items if "demo_run" in item.fixturenames]
    if not using:
        pytest.skip("no test of the demo collected in this run")
    assert all(worker_group(nodeid) == "demo" for nodeid in using), using


def test_every_flow_test_shares_the_harness_worker(request):
    under_harness = [item.nodeid for item in request.session.items
                     if ("prefect_harness" in item.fixturenames or "prefect_server" in item.fixturenames
                         or item.get_closest_marker("prefect"))
                     and not item.nodeid.startswith("tests/flows/test_deployment.py")]
    if not under_harness:
        pytest.skip("no flow test collected in this run")
    assert all(worker_group(nodeid) == "prefect" for nodeid in under_harness), [
        n for n in under_harness if worker_group(n) != "prefect"]
    assert worker_group(f"{OWN_SERVER[0]}::test_anything") is None
