"""Flows that pause for a decision in the Prefect UI, driven from a test: the run goes on in a thread
(a paused in-process run blocks its thread), the test waits until it is paused with its form saved,
resumes it (``prefect.flow_runs.resume_flow_run``) and collects its final state."""

import threading
import time
import uuid
from typing import Any

import pytest
from prefect import tags
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterTags
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError

WAIT_SECONDS = 30


def start_in_background(flow: Any, parameters: Any) -> tuple[threading.Thread, dict, str]:
    """Run ``flow(parameters)`` in a thread; the returned tag finds its run."""
    tag = f"test-{uuid.uuid4().hex[:12]}"
    box: dict = {}

    def run() -> None:
        try:
            with tags(tag):
                box["state"] = flow(parameters, return_state=True)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            box["error"] = exc

    thread = threading.Thread(target=run, name=f"{flow.name}-{tag}", daemon=True)
    thread.start()
    return thread, box, tag


def wait_until_paused(tag: str, thread: threading.Thread, box: dict):
    """The run's id once it is Paused and its decision form (input schema) is saved."""
    deadline = time.monotonic() + WAIT_SECONDS
    seen = None
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            if not thread.is_alive():
                pytest.fail(f"the flow ended before pausing: {box}")
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[tag])))
            if runs and runs[0].state is not None:
                seen = runs[0].state
                if seen.is_paused() and seen.state_details.run_input_keyset:
                    try:
                        client.read_flow_run_input(runs[0].id, seen.state_details.run_input_keyset["schema"])
                        return runs[0].id
                    except (ObjectNotFound, PrefectHTTPStatusError) as exc:  # the sync client raises the latter
                        if isinstance(exc, PrefectHTTPStatusError) and exc.response.status_code != 404:
                            raise
                        # paused, but the form is not saved yet
            time.sleep(0.2)
    pytest.fail(f"the flow run did not pause within {WAIT_SECONDS} s (last state: {seen})")


def finished(thread: threading.Thread, box: dict):
    """The run's final state (its exception re-raised)."""
    thread.join(WAIT_SECONDS)
    if thread.is_alive():
        pytest.fail(f"the flow run did not finish within {WAIT_SECONDS} s")
    if "error" in box:
        raise box["error"]
    return box["state"]


def run_artifacts(flow_run_id) -> dict:
    """The run's artifacts by key."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return {a.key: a for a in found if a.key}
