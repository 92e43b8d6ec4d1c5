"""The inbox door refuses a supplier whose contract asks for the CRM check when no CRM export is
given, as ``leadgov validate`` does (one rule, ``leadgov.services.deliveries.crm_export``): its
files stay in the inbox, nothing is stored, and the others are processed."""

from datetime import date

import databases
import yaml
from factories import HMAC_KEY, contract_dict, lead, make_contract_file, to_csv
from sqlalchemy import func, select

from leadgov.config.settings import Settings
from leadgov.models import Delivery
from leadgov.models.db import session_scope
from leadgov.services.inbox import FileStatus, InboxRequest, process_inbox
from leadgov.services.runtime import FixedClock, OutboxNotifier, build_runtime

WITH_CRM = {"exclusions.crm_check": True}
WITHOUT_CRM = {"exclusions.crm_check": False, "supplier.id": "beta-leads", "supplier.name": "Beta",
               "contract_id": "BETA-1"}


def test_a_contract_asking_for_the_crm_check_without_an_export_keeps_its_files_waiting(tmp_path, sqlite_template):
    url = databases.copy_sqlite_template(sqlite_template, tmp_path / "leadgov.db")
    contracts, inbox = tmp_path / "contracts", tmp_path / "inbox"
    contracts.mkdir()
    for overrides, first in ((WITH_CRM, 1), (WITHOUT_CRM, 20)):
        contract = make_contract_file(**overrides)
        supplier = contract.contract.supplier.id
        (contracts / f"{supplier}.yaml").write_text(yaml.safe_dump(contract_dict(**overrides), allow_unicode=True),
                                                     encoding="utf-8")
        folder = inbox / supplier
        folder.mkdir(parents=True)
        (folder / "d.csv").write_text(to_csv([lead(first), lead(first + 1)], dict(contract.contract.delivery.columns)),
                                      encoding="utf-8")
    settings = Settings(_env_file=None, database_url=url, hmac_key=HMAC_KEY, crm_export=None,
                        output_dir=tmp_path / "out")
    runtime = build_runtime(settings, clock=FixedClock(date(2027, 3, 2)), notifier=OutboxNotifier(None), migrate=False)

    result = process_inbox(runtime, InboxRequest.with_defaults(settings, inbox_dir=inbox, contracts_dir=contracts,
                                                               delivered_on=date(2027, 3, 1)))

    by_id = {s.supplier_id: s for s in result.suppliers}
    refused = by_id["acme-leads"]
    assert "exclusions.crm_check: true" in refused.error and "LEADGOV_CRM_EXPORT" in refused.error
    assert (inbox / "acme-leads" / "d.csv").is_file()  # waits for the next run
    assert [f.status for f in by_id["beta-leads"].files] == [FileStatus.processed]
    with session_scope(url) as session:
        assert session.scalars(select(Delivery.supplier_id)).all() == ["beta-leads"]
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1
