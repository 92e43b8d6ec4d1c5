"""Which tests must share a pytest-xdist worker (tests/conftest.py schedules them so): those using
one expensive per-process fixture, which the worker then builds once."""

#: The tests reading the demo's one run (``demo_run``: a quarter played, minutes).
DEMO_TESTS = (
    "tests/leadgov/test_demo.py::test_demo_plays_the_quarter",
    "tests/leadgov/test_demo.py::test_the_managers_get_incidents_not_floods",
    "tests/leadgov/test_terminal_width.py::test_demo_prints_a_summary_within_80_columns_and_the_full_tables_in_files",
)
#: The flow tests, under the Prefect harness of tests/flows/conftest.py ...
PREFECT_FOLDER = "tests/flows/"
#: ... and elsewhere (reusing it when it runs).
PREFECT_ELSEWHERE = ("tests/leadgov/test_no_personal_data.py::test_validate_delivery_flow_holds_no_personal_data",)
#: Flow tests that start a server of their own instead: they may run in any worker.
OWN_SERVER = ("tests/flows/test_deployment.py",)


def worker_group(nodeid: str) -> str | None:
    """The group of tests that must share a worker ``nodeid`` belongs to, if any."""
    path = nodeid.split("::", 1)[0]
    if nodeid in DEMO_TESTS:
        return "demo"
    if path.startswith(PREFECT_FOLDER) and path not in OWN_SERVER:
        return "prefect"
    if nodeid.split("[", 1)[0] in PREFECT_ELSEWHERE:
        return "prefect"
    return None
