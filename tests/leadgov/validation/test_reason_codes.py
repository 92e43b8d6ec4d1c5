"""Each rejection reason of docs/deliveries.md: one row that fires it, one just inside the boundary."""

import pytest
from factories import DELETE, lead, make_contract, reasons_of

from leadgov.reasons import RejectionReason as R
from leadgov.validation.people import KnownPeople

#: A contract whose legal basis is legitimate interest: every lead needs its notice (NO_NOTICE).
NOTICE = {"gdpr.legal_basis": "legitimate_interest"}
#: The same, with leads fresh for 90 days, so a notice can come a month after the collection.
NOTICE_90 = {**NOTICE, "exploitability.max_age_days": 90}

# (reason, contract overrides, lead overrides that fire it, lead overrides just inside the boundary)
CASES = [
    (R.NO_CONSENT, {}, {"consent_proof": None}, {"consent_proof": "rec-1"}),
    (R.NO_CONSENT, {}, {"consent_at": None}, {"consent_at": "2027-02-01"}),
    (R.NO_CONSENT, {}, {"consent_at": "2027-03-02 00:00"}, {"consent_at": "2027-03-01 23:59"}),
    (R.NO_NOTICE, NOTICE, {"notice_sent_at": None}, {"notice_sent_at": "2027-02-28"}),
    (R.NO_NOTICE, NOTICE, {"notice_sent_at": "   "}, {"notice_sent_at": "27/02/2027 10:00"}),
    (R.NO_NOTICE, NOTICE, {"notice_sent_at": "2027-03-02 00:00"}, {"notice_sent_at": "2027-03-01 23:59"}),
    # 31 calendar days after the collection day is late, 30 is in time (the hours do not count)
    (R.NO_NOTICE, NOTICE_90, {"collected_at": "2027-01-29 23:00", "notice_sent_at": "2027-03-01 00:10"},
     {"collected_at": "2027-01-29 23:00", "notice_sent_at": "2027-02-28 23:59"}),
    (R.NO_NOTICE, NOTICE_90, {"collected_at": "2027-01-01 08:00", "notice_sent_at": "2027-02-01 08:00"},
     {"collected_at": "2027-01-01 08:00", "notice_sent_at": "2027-01-31 08:00"}),
    (R.MISSING_FIELD, {}, {"need": "   "}, {"need": "x"}),
    (R.MISSING_FIELD, {}, {"company_name": None}, {"company_name": "A"}),
    (R.INVALID_EMAIL, {}, {"email": "camille.martin@@nexalog.fr"}, {"email": "camille.martin+crm@nexalog.fr"}),
    (R.INVALID_EMAIL, {}, {"email": "camille.martin@nexalog"}, {"email": "Camille.Martin@NEXALOG.FR"}),
    (R.INVALID_PHONE, {}, {"phone": "06 12 34 56"}, {"phone": "+33 6 12 34 56 78"}),
    (R.INVALID_PHONE, {}, {"phone": "+44 20 7946 0958"}, {"phone": "0033612345678"}),
    (R.INVALID_COMPANY_ID, {}, {"siren": "732829321"}, {"siren": "732 829 320"}),
    (R.INVALID_COMPANY_ID, {}, {"siren": "7328293200001"}, {"siren": "73282932000074"}),
    (R.INVALID_VALUE, {}, {"employees": "beaucoup"}, {"employees": "1 200"}),
    (R.INVALID_VALUE, {}, {"budget_eur": "cinq mille"}, {"budget_eur": "12 000,50"}),
    (R.INVALID_VALUE, {}, {"project_horizon_months": "6.5"}, {"project_horizon_months": "12"}),
    (R.INVALID_VALUE, {}, {"collected_at": "31/02/2027"}, {"collected_at": "28/02/2027 09:30"}),
    (R.INVALID_VALUE, {}, {"collected_at": "2027-03-02"}, {"collected_at": "2027-03-01 18:00"}),
    (R.INVALID_VALUE, {}, {"postal_code": "7501"}, {"postal_code": "75001"}),
    (R.COMPETITOR, {}, {"email": "jean.dupont@sales.rival-crm.example"}, {"email": "jean.dupont@notrival-crm.fr"}),
    (R.COMPETITOR, {}, {"siren": "552100554"}, {"siren": "732829320"}),
    (R.EXCLUDED_LEGAL_FORM, {}, {"legal_form": "Micro-Entreprise"}, {"legal_form": "Entreprise"}),
    (R.EXCLUDED_LEGAL_FORM, {}, {"legal_form": "ei"}, {"legal_form": "EIRL"}),
    (R.STUDENT, {}, {"job_title": "Directeur commercial (alternant)"}, {"job_title": "Directeur des alternances"}),
    (R.STUDENT, {}, {"email": "c.martin@etu.univ-lyon1.fr"}, {"email": "c.martin@universal.fr"}),
    (R.STUDENT, {}, {"job_title": "Head of Sales Interns"}, {"job_title": "Head of International Sales"}),
    (R.STALE, {}, {"collected_at": "2027-02-21 23:59"}, {"collected_at": "2027-02-22 00:00"}),
    (R.GENERIC_EMAIL, {}, {"email": "contact@nexalog.fr"}, {"email": "contact.martin@nexalog.fr"}),
    (R.FREE_EMAIL, {}, {"email": "camille.martin@gmail.com"}, {"email": "camille.martin@gmail.company.fr"}),
    (R.OUT_OF_TARGET_GEO, {}, {"postal_code": "13001"}, {"postal_code": "20190"}),
    (R.OUT_OF_TARGET_GEO, {}, {"country": "BE", "postal_code": "1000", "phone": "+33 6 12 34 56 78"},
     {"country": "fr"}),
    (R.OUT_OF_TARGET_SECTOR, {}, {"naf_code": "62.09Z"}, {"naf_code": "6202a"}),
    (R.OUT_OF_TARGET_SECTOR, {}, {"naf_code": "70.21Z"}, {"naf_code": "7022Z"}),
    (R.OUT_OF_TARGET_SIZE, {}, {"employees": "9"}, {"employees": "10"}),
    (R.OUT_OF_TARGET_SIZE, {}, {"employees": "5001"}, {"employees": "5000"}),
    (R.OUT_OF_TARGET_FUNCTION, {}, {"job_title": "Chargé de clientèle"}, {"job_title": "VP Sales"}),
    (R.OUT_OF_TARGET_FUNCTION, {}, {"job_title": "Assistante du DG"}, {"job_title": "DG adjoint"}),
    (R.OUT_OF_TARGET_BUDGET, {}, {"budget_eur": "4999,99"}, {"budget_eur": "5 000"}),
    (R.OUT_OF_TARGET_MATURITY, {}, {"project_horizon_months": "13"}, {"project_horizon_months": "12"}),
    (R.UNAUTHORIZED_SOURCE, {}, {"source": "partner"}, {"source": "Web_Form"}),
]


@pytest.mark.parametrize(("reason", "contract", "fires", "inside"), CASES,
                         ids=[f"{c[0].value}-{i}" for i, c in enumerate(CASES)])
def test_reason_fires_and_not_just_inside(reason, contract, fires, inside):
    contract = make_contract(**contract)
    fired, kept = reasons_of([lead(1, **fires), lead(2, **inside)], contract)
    assert reason in fired
    assert kept == []


def test_every_reason_code_has_a_case():
    identity_reasons = {R.DUPLICATE_IN_DELIVERY, R.DUPLICATE_PREVIOUS, R.DUPLICATE_OTHER_SUPPLIER,
                        R.ALREADY_IN_CRM, R.SUPPRESSED}  # tested in test_identity_reasons.py
    company_reasons = {R.COMPANY_CAP}  # tested in test_company_cap.py
    assert {c[0] for c in CASES} | identity_reasons | company_reasons == set(R)


def test_all_reasons_recorded_primary_first_in_table_order():
    (reasons,) = reasons_of([lead(1, source="partner", employees="3", email="contact@gmail.com",
                                  consent_proof=None)])
    assert reasons == ["NO_CONSENT", "GENERIC_EMAIL", "FREE_EMAIL", "OUT_OF_TARGET_SIZE", "UNAUTHORIZED_SOURCE"]


def test_missing_field_is_the_only_reason_for_that_field():
    (reasons,) = reasons_of([lead(1, email=None)])
    assert reasons == ["MISSING_FIELD"]


def test_missing_consent_field_is_no_consent_not_missing_field():
    contract = make_contract(**{"exploitability.required_fields": ["lead_id", "consent_at", "consent_proof"]})
    (reasons,) = reasons_of([lead(1, consent_at=None)], contract)
    assert reasons == ["NO_CONSENT"]


def test_consent_basis_needs_no_notice():
    assert make_contract().gdpr.legal_basis == "consent"
    assert reasons_of([lead(1, notice_sent_at=None), lead(2, notice_sent_at="2027-03-05")]) == [[], []]


def test_no_notice_comes_after_no_consent_and_before_missing_field():
    (reasons,) = reasons_of([lead(1, consent_proof=None, notice_sent_at=None, need=None)], make_contract(**NOTICE))
    assert reasons == ["NO_CONSENT", "NO_NOTICE", "MISSING_FIELD"]


def test_missing_notice_is_no_notice_not_missing_field():
    required = {"exploitability.required_fields": ["lead_id", "notice_sent_at"]}
    assert reasons_of([lead(1)], make_contract(**NOTICE, **required)) == [["NO_NOTICE"]]
    assert reasons_of([lead(1)], make_contract(**required)) == [["MISSING_FIELD"]]  # consent basis


def test_unreadable_notice_is_invalid_value_only():
    rows = [lead(1, notice_sent_at="31/02/2027"), lead(2, notice_sent_at="bientôt")]
    assert reasons_of(rows, make_contract(**NOTICE)) == [["INVALID_VALUE"], ["INVALID_VALUE"]]
    assert reasons_of(rows) == [["INVALID_VALUE"], ["INVALID_VALUE"]]  # a date is read whatever the basis


def test_notice_delay_needs_a_readable_collection_day():
    # collected_at unreadable: INVALID_VALUE; the notice is not measured against it
    rows = [lead(1, collected_at="hier", notice_sent_at="2027-02-28")]
    assert reasons_of(rows, make_contract(**NOTICE)) == [["INVALID_VALUE"]]


def test_no_notice_details_say_why_without_personal_data():
    from factories import validate_rows

    rows = [lead(1, notice_sent_at=None), lead(2, notice_sent_at="2027-03-02 09:00"),
            lead(3, collected_at="2027-01-01 08:00", notice_sent_at="2027-02-10")]
    details = validate_rows(rows, make_contract(**NOTICE_90)).verdicts["details"].tolist()
    assert details == ["NO_NOTICE: notice_sent_at missing", "NO_NOTICE: notice sent after the delivery date",
                       "NO_NOTICE: notice sent 40 days after collection (max 30)"]


def test_consent_not_required_means_no_consent_check():
    contract = make_contract(**{"gdpr.consent_required": False})
    assert reasons_of([lead(1, consent_at=None, consent_proof=None)], contract) == [[]]


def test_absent_optional_field_skips_its_checks():
    assert reasons_of([lead(1, budget_eur=None, project_horizon_months=None, source=None, legal_form=None)]) == [[]]


def test_unreadable_value_skips_other_checks_on_that_field():
    # "3 salariés" is unreadable: INVALID_VALUE only, never OUT_OF_TARGET_SIZE
    (reasons,) = reasons_of([lead(1, employees="3 salariés")])
    assert reasons == ["INVALID_VALUE"]


def test_invalid_email_takes_no_part_in_email_rules():
    (reasons,) = reasons_of([lead(1, email="contact@@gmail.com")])
    assert reasons == ["INVALID_EMAIL"]


def test_siret_gives_its_siren_for_competitor_check():
    (reasons,) = reasons_of([lead(1, siren="55210055400013")])
    assert "COMPETITOR" in reasons


def test_empty_criterion_filters_nothing():
    contract = make_contract(**{"qualification.departments": [], "qualification.naf_include": [],
                                "qualification.naf_exclude": [], "qualification.allowed_sources": []})
    assert reasons_of([lead(1, postal_code="13001", naf_code="47.11D", source="partner")], contract) == [[]]


def test_absent_country_is_france():
    assert reasons_of([lead(1, country=None)]) == [[]]


@pytest.mark.parametrize(("postal_code", "department_ok"), [
    ("20000", True), ("20199", True), ("20200", True), ("20999", True), ("97411", False),
])
def test_corsica_departments(postal_code, department_ok):
    contract = make_contract(**{"qualification.departments": ["2A", "2B"]})
    (reasons,) = reasons_of([lead(1, postal_code=postal_code)], contract)
    assert (reasons == []) is department_ok


def test_overseas_department_is_three_digits():
    contract = make_contract(**{"qualification.departments": ["974"]})
    rows = [lead(1, postal_code="97411"), lead(2, postal_code="97511")]
    assert reasons_of(rows, contract) == [[], ["OUT_OF_TARGET_GEO"]]


def test_reused_lead_id_is_invalid_value():
    rows = [lead(1, lead_id="A"), lead(2, lead_id="A"), lead(3, lead_id="OLD")]
    assert reasons_of(rows, known=KnownPeople(used_lead_ids=frozenset({"OLD"}))) == [
        [], ["INVALID_VALUE"], ["INVALID_VALUE"]]


def test_details_name_the_field_and_carry_no_personal_data():
    from factories import validate_rows

    row = lead(1, email=None, phone="06 12", first_name="Zoé", budget_eur="100")
    details = validate_rows([row]).verdicts["details"].iloc[0]
    assert "MISSING_FIELD: email missing" in details and "budget 100.0 EUR below" in details
    assert "INVALID_PHONE: phone is not a valid number of FR" in details
    assert not any(row[f] in details for f in ("first_name", "last_name", "phone", "company_name"))


def test_primary_reason_and_status():
    from factories import validate_rows

    verdicts = validate_rows([lead(1), lead(2, source="partner", employees="1")]).verdicts
    assert list(verdicts["status"]) == ["accepted", "rejected"]
    assert verdicts["primary_reason"].isna().iloc[0]
    assert verdicts["primary_reason"].iloc[1] == "OUT_OF_TARGET_SIZE"
    assert list(verdicts["row_number"]) == [1, 2]


def test_job_title_keyword_needs_whole_words():
    contract = make_contract(**{"qualification.job_title_include": ["dg", "head of"]})
    rows = [lead(1, job_title="Chef de projet DGFiP"), lead(2, job_title="Head-of Sales"),
            lead(3, job_title="DG")]
    assert reasons_of(rows, contract) == [["OUT_OF_TARGET_FUNCTION"], [], []]


def test_date_formats_accepted():
    rows = [lead(1, collected_at="2027-02-27"), lead(2, collected_at="27/02/2027"),
            lead(3, collected_at="27/02/2027 10:30:15"), lead(4, collected_at="2027-02-27T10:30:00+01:00")]
    assert reasons_of(rows) == [[], [], [], []]


def test_contract_date_format_is_used():
    contract = make_contract(**{"delivery.date_format": "%Y%m%d"})
    rows = [lead(1, collected_at="20270227", consent_at="20270227"),
            lead(2, collected_at="2027-02-27", consent_at="20270227")]
    assert reasons_of(rows, contract) == [[], ["INVALID_VALUE"]]


def test_phone_regions_tried_in_order():
    contract = make_contract(**{"exploitability.phone_regions": ["BE", "FR"]})
    rows = [lead(1, phone="02 555 12 12"), lead(2, phone="06 12 34 56 78")]
    assert reasons_of(rows, contract) == [[], []]
    assert reasons_of([lead(1, phone="02 555 12 12")]) == [["INVALID_PHONE"]]


def test_deleted_optional_blocks_filter_nothing():
    contract = make_contract(qualification=DELETE, exclusions=DELETE)
    rows = [lead(1, postal_code="13001", naf_code="47.11D", employees="1", siren="552100554",
                 legal_form="EI", job_title="Stagiaire")]
    assert reasons_of(rows, contract) == [[]]
