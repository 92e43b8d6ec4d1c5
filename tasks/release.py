"""Tasks of a frozen statement's release: each step of ``leadgov.services.release`` as its Prefect
task, and the artifacts the committee reads (amounts and lead counts, never a lead's personal data).

Reading the statement is retried when the database could not be reached; storing the release is not
(it is refused the second time anyway: a released revision is never released again)."""

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from leadgov.reports.artifacts import Table, markdown
from leadgov.services import release
from leadgov.services.release import ReleaseResult
from leadgov.statements import StoredStatement
from leadgov.tasks.common import artifact_key, step_task

read_statement = step_task(release.latest_statement, retry="database", name="read_statement")
store_release = step_task(release.store_release, name="store_release")


def release_key(supplier_id: str, month: str, what: str) -> str:
    """``release-<supplier>-<yyyy-mm>-<what>``."""
    return artifact_key("release", supplier_id, month, what)


def statement_markdown(s: StoredStatement) -> str:
    """The revision the committee decides on: its amounts, why it is frozen, and whether it was released."""
    amounts = Table(("line", "amount €"), [
        (f"{s.billable_units} units x {s.unit_price_eur:.2f} €", f"{s.units_amount_eur:.2f}"),
        ("fixed monthly fee", f"{s.fixed_fee_eur:.2f}"),
        ("gross", f"{s.gross_eur:.2f}"),
        ("over the budget cap (not billed)", f"-{s.cap_excess_eur:.2f}"),
        (f"credit notes ({len(s.credit_lines)})", f"-{s.credits_eur:.2f}"),
        ("**amount due**", f"**{s.amount_due_eur:.2f}**"),
    ])
    if s.released_at is not None:
        state = f"Released by {s.released_by} on {s.released_at.date().isoformat()}: {s.release_comment}"
    elif s.frozen:
        state = "**FROZEN**: not payable until the committee releases it."
    else:
        state = "Not frozen: payable, nothing to release."
    return markdown(
        f"Statement of {s.supplier_name} for {s.month} (revision {s.revision})",
        f"Contract {s.contract_id} (version {s.contract_version_id}), model {s.model}.",
        amounts,
        state,
        "## Freeze reasons",
        "\n".join(f"- {r}" for r in s.freeze_reasons) or "- none",
        "Decide below: **release** stores a new revision, payable, with the same amounts (it cannot be "
        "undone); **keep_frozen** stores nothing.",
    )


@task(cache_policy=NO_CACHE)
def publish_statement(statement: StoredStatement) -> str:
    """The statement as a markdown artifact; returns the markdown (shown again above the decision form)."""
    text = statement_markdown(statement)
    create_markdown_artifact(text, key=release_key(statement.supplier_id, statement.month, "statement"),
                             description=f"Statement {statement.month} revision {statement.revision}")
    return text


@task(cache_policy=NO_CACHE)
def publish_released(result: ReleaseResult) -> None:
    """The release just stored: the new revision, who, when and why."""
    s = result.statement
    create_markdown_artifact(
        markdown(f"Statement of {s.supplier_id} for {s.month}: **released**",
                 f"Revision {result.released_revision} released as revision {s.revision}, payable: "
                 f"{s.amount_due_eur:.2f} € due.",
                 f"Released by {s.released_by} on {s.released_at.isoformat() if s.released_at else ''}.",
                 f"Comment: {s.release_comment}"),
        key=release_key(s.supplier_id, s.month, "decision"), description="Statement released")


@task(cache_policy=NO_CACHE)
def publish_kept_frozen(statement: StoredStatement, decided_by: str, comment: str) -> None:
    """The committee kept the statement frozen: nothing stored, the artifact says so."""
    create_markdown_artifact(
        markdown(f"Statement of {statement.supplier_id} for {statement.month}: **kept frozen**",
                 f"{decided_by} kept revision {statement.revision} frozen: nothing stored, it stays not payable.",
                 f"Comment: {comment}"),
        key=release_key(statement.supplier_id, statement.month, "decision"), description="Statement kept frozen")


@task(cache_policy=NO_CACHE)
def publish_no_decision(statement: StoredStatement, message: str) -> None:
    """Nobody decided in time: nothing stored."""
    create_markdown_artifact(
        markdown(f"Statement of {statement.supplier_id} for {statement.month}: no decision taken", message),
        key=release_key(statement.supplier_id, statement.month, "decision"), description="No decision taken")
