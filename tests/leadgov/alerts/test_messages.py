"""Slack messages of alerts: every type in both languages, numbers and dates per locale, escaping."""

import json
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from factories import make_contract

from leadgov.alerts.messages import (
    WORDING,
    Message,
    escape,
    format_count,
    format_date,
    format_eur,
    format_period,
    format_rate,
    render,
)
from leadgov.alerts.rules import (
    billing_frozen_alert,
    budget_cap_alerts,
    contract_renewal_alert,
    delivery_missing_alerts,
    pilot_verdict_alert,
    quarterly_review_alert,
    replacement_overdue_alerts,
    review_waiting_alert,
)
from leadgov.alerts.types import Alert, AlertType

CONTRACT = make_contract(**{"supplier.id": "acme-leads", "supplier.name": "ACME Leads SAS", "locale": "fr",
                            "alerts.slack_channel": "#lead-ops",
                            "alerts.committee_channel": "#lead-governance", "period.notice_days": 60})
BUDGET_CONTRACT = make_contract(**{"supplier.id": "acme-leads", "supplier.name": "ACME Leads SAS", "locale": "fr",
                                   "alerts.slack_channel": "#lead-ops", "billing.monthly_budget_cap_eur": 5000})


def alert(kind: AlertType, period: str, figure=None, threshold=None, **facts) -> Alert:
    return Alert(type=kind, supplier_id="acme-leads", supplier_name="ACME Leads SAS", period=period,
                 channel="#lead-ops", locale="fr", figure=figure, threshold=threshold, facts=facts)


SPIKE = alert(AlertType.REJECTION_SPIKE, "delivery:42", 0.185, 0.15, rule="threshold", delivered=27,
              rejected=5, contested=0, delivered_on="2027-03-01", contest_window_closes="2027-03-08",
              top_reasons=[{"code": "MISSING_FIELD", "count": 3}, {"code": "STALE", "count": 2}])
WEEK_SPIKE = alert(AlertType.REJECTION_SPIKE, "2027-W09", 0.14, 0.13266, rule="trend", max_reject_rate=0.15,
                   mean=0.1, std=0.01633, sigma=2.0, delivered=40, rejected=6, contested=0, top_reasons=[])
OVERDUE = replacement_overdue_alerts(CONTRACT, [
    {"claim_id": 3, "lead_id": "L-00002", "due_on": "2027-03-10", "overdue_on": "2027-03-12"},
    {"claim_id": 7, "lead_id": "L-00009", "due_on": "2027-03-11", "overdue_on": "2027-03-12"},
])[0]

#: One realistic alert of every type.
SAMPLES: dict[AlertType, Alert] = {
    AlertType.REJECTION_SPIKE: SPIKE,
    AlertType.DUPLICATE_SURGE: alert(AlertType.DUPLICATE_SURGE, "delivery:42", 0.1, 0.05, delivered=20,
                                     duplicates=2),
    AlertType.GDPR_BREACH: alert(AlertType.GDPR_BREACH, "2027-W09", 2, 0, delivered=45, freezes_statement=True),
    AlertType.VOLUME_SHORTFALL: alert(AlertType.VOLUME_SHORTFALL, "2027-W09", 39, 40.0, delivered=39,
                                      weekly_target=50, weekly_max=60, over_cap=0),
    AlertType.VOLUME_EXCESS: alert(AlertType.VOLUME_EXCESS, "2027-W09", 61, 60, delivered=61, weekly_target=50,
                                   weekly_max=60, over_cap=1),
    AlertType.DELIVERY_MISSING: delivery_missing_alerts(CONTRACT, delivered_days=set(), since=date(2027, 3, 2),
                                                        as_of=date(2027, 3, 4))[0],
    AlertType.REPLACEMENT_OVERDUE: OVERDUE,
    AlertType.SLA_BREACH: alert(AlertType.SLA_BREACH, "2027-W09", 0.75, 0.8, concerns="our_team", accepted=20,
                                called_within_sla=15, sla_hours=24),
    AlertType.BILLING_FROZEN: billing_frozen_alert(CONTRACT, {
        "month": "2027-03", "revision": 2, "frozen": True, "amount_due_eur": Decimal("1234.50"),
        "freeze_reasons": ["GDPR_BREACH: 1 lead rejected NO_CONSENT or NO_NOTICE, or contested "
                           "NO_CONSENT_ON_CALL (L-00004)"]})[0],
    AlertType.PILOT_VERDICT: pilot_verdict_alert(CONTRACT, pilot_id=1, verdict="RENEGOTIATE",
                                                 reasons=["reject_rate 18.0 % > 15.0 %"],
                                                 report_path="pilot-acme-leads.html")[0],
    AlertType.QUARTERLY_REVIEW: quarterly_review_alert(quarter="2027-Q1", channel="#lead-governance", locale="fr",
                                                       report_path="review-2027-Q1.html", suppliers=3)[0],
    AlertType.VOLUME_CAP_NEAR: alert(AlertType.VOLUME_CAP_NEAR, "2027-W09", 48, 48.0, accepted=48, weekly_max=60),
    AlertType.VOLUME_CAP_REACHED: alert(AlertType.VOLUME_CAP_REACHED, "2027-W09", 60, 60, accepted=60,
                                        weekly_max=60),
    AlertType.BUDGET_CAP_NEAR: budget_cap_alerts(BUDGET_CONTRACT, month="2027-03",
                                                 billable_eur=Decimal("4200.00"))[0],
    AlertType.BUDGET_CAP_REACHED: budget_cap_alerts(BUDGET_CONTRACT, month="2027-03",
                                                    billable_eur=Decimal("5000.00"))[0],
    AlertType.CONTRACT_RENEWAL: contract_renewal_alert(CONTRACT, today=CONTRACT.period.end - timedelta(
        days=CONTRACT.period.notice_days + 14))[0],
    AlertType.REVIEW_WAITING: review_waiting_alert(CONTRACT, today=date(2027, 3, 9), waiting=3,
                                                   oldest_due=date(2027, 3, 10))[0],
}


def in_(locale: str, a: Alert) -> Alert:
    return replace(a, locale=locale)


def mrkdwn(message: Message) -> list[str]:
    """Every mrkdwn text of the blocks (fields, section texts, context elements)."""
    texts = []
    for block in message.blocks:
        texts += [f["text"] for f in block.get("fields", [])]
        if block.get("text", {}).get("type") == "mrkdwn":
            texts.append(block["text"]["text"])
        texts += [e["text"] for e in block.get("elements", []) if e["type"] == "mrkdwn"]
    return texts


def fields(message: Message) -> list[str]:
    return [f["text"] for b in message.blocks for f in b.get("fields", [])]


def everything(message: Message) -> str:
    return message.text + "\n" + json.dumps(message.blocks, ensure_ascii=False)


# --- every type, both languages ----------------------------------------------------------------

def test_every_type_has_a_sample():
    assert set(SAMPLES) == set(AlertType)
    assert all(a.type == kind for kind, a in SAMPLES.items())


@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize("kind", list(AlertType))
def test_every_type_renders_in_both_languages(kind, locale):
    a = in_(locale, SAMPLES[kind])
    message = render(a)
    assert message.text.strip() and "{" not in message.text and "}" not in message.text
    assert isinstance(message.blocks, list) and all(isinstance(b, dict) and "type" in b for b in message.blocks)
    header, facts, *_, next_step, context = message.blocks
    assert header == {"type": "header", "text": {"type": "plain_text", "text": WORDING[locale][kind]["title"],
                                                 "emoji": False}}
    assert facts["type"] == "section" and 2 <= len(facts["fields"]) <= 10
    assert all(f["type"] == "mrkdwn" and f["text"].startswith("*") for f in facts["fields"])
    assert next_step["type"] == "section" and next_step["text"]["type"] == "mrkdwn"
    assert context == {"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"`{kind.value}` · `{a.key}`"}]}
    assert WORDING[locale]["labels"]["next"] in next_step["text"]["text"]
    json.dumps(message.blocks)  # JSON-ready for the Slack API


@pytest.mark.parametrize("kind", list(AlertType))
def test_the_two_languages_differ(kind):
    assert render(in_("fr", SAMPLES[kind])).text != render(in_("en", SAMPLES[kind])).text


def test_both_locales_word_the_same_things():
    def shape(words):
        return {k: sorted(v) if isinstance(v, dict) else v for k, v in words.items()}
    assert shape(WORDING["fr"]).keys() == shape(WORDING["en"]).keys()
    for key in WORDING["fr"]:
        assert sorted(WORDING["fr"][key]) == sorted(WORDING["en"][key]), key


# --- figures, thresholds and dates per locale ---------------------------------------------------

def test_rates_as_percentages_with_one_decimal_per_locale():
    assert fields(render(SPIKE)) == ["*Fournisseur*\nACME Leads SAS", "*Période*\nlivraison 42",
                                     "*Taux de rejet*\n18,5 %", "*Seuil*\n15,0 %"]
    assert fields(render(in_("en", SPIKE))) == ["*Supplier*\nACME Leads SAS", "*Period*\ndelivery 42",
                                                "*Reject rate*\n18.5%", "*Threshold*\n15.0%"]


def test_rejection_spike_text_and_next_step_per_locale():
    assert render(SPIKE).text == (
        "ACME Leads SAS, livraison 42 : taux de rejet de 18,5 %, au-dessus du seuil du contrat (15,0 %). "
        "La fenêtre de contestation se ferme le 08/03/2027 : envoyer le rapport de retour au fournisseur.")
    assert render(in_("en", SPIKE)).text == (
        "ACME Leads SAS: reject rate 18.5% for delivery 42, above the contract's limit (15.0%). "
        "The contest window closes on 8 Mar 2027: send the return report to the supplier.")
    assert "Principaux motifs : MISSING_FIELD (3), STALE (2)" in mrkdwn(render(SPIKE))


def test_week_spike_by_trend_has_no_contest_date():
    fr, en = render(WEEK_SPIKE), render(in_("en", WEEK_SPIKE))
    assert "au-dessus de la tendance des 4 dernières semaines (13,3 %)" in fr.text
    assert fr.text.endswith("Revoir avec le fournisseur les motifs de rejet de la semaine.")
    assert fr.text.startswith("ACME Leads SAS, semaine 2027-W09 : taux de rejet de 14,0 %, ")
    assert en.text == ("ACME Leads SAS: reject rate 14.0% for week 2027-W09, above the trailing 4-week trend "
                       "(13.3%). Review the week's rejection reasons with the supplier.")
    assert [b["type"] for b in fr.blocks] == ["header", "section", "section", "context"]  # no empty reasons line
    assert [b["type"] for b in render(SPIKE).blocks] == ["header", "section", "section", "section", "context"]


def test_counts_and_amounts_per_locale():
    shortfall = SAMPLES[AlertType.VOLUME_SHORTFALL]
    assert fields(render(shortfall))[2:] == ["*Leads livrés*\n39", "*Seuil*\n40"]
    assert "(80% of the 50 target)" in render(in_("en", shortfall)).text
    frozen = SAMPLES[AlertType.BILLING_FROZEN]
    assert "*Montant dû*\n1 234,50 €" in fields(render(frozen))
    assert "*Amount due*\n€1,234.50" in fields(render(in_("en", frozen)))
    assert render(frozen).text.startswith("ACME Leads SAS : le relevé de mars 2027 (révision 2, 1 234,50 €)")
    assert render(in_("en", frozen)).text.startswith("ACME Leads SAS: the Mar 2027 statement (revision 2, €1,234.50)")


def test_sla_breach_is_worded_about_our_team():
    sla = SAMPLES[AlertType.SLA_BREACH]
    assert render(in_("en", sla)).text == (
        "Our team called 75.0% of ACME Leads SAS's accepted leads within 24 h in week 2027-W09 (target 80.0%). "
        "Internal: review the team's calling capacity (not a supplier failure).")
    assert fields(render(sla))[2:] == ["*Appelés en 24 h*\n75,0 %", "*Seuil*\n80,0 %"]


def test_delivery_missing_names_the_day():
    missing = SAMPLES[AlertType.DELIVERY_MISSING]
    assert missing.period == "day:2027-03-02"
    assert render(missing).text.startswith("ACME Leads SAS : aucune livraison le 02/03/2027, jour de livraison prévu.")
    assert render(in_("en", missing)).text.startswith("ACME Leads SAS: no delivery on 2 Mar 2027,")
    assert fields(render(missing)) == ["*Fournisseur*\nACME Leads SAS", "*Période*\n02/03/2027"]


def test_gdpr_breach_next_step_says_whether_the_statement_freezes():
    gdpr = SAMPLES[AlertType.GDPR_BREACH]
    assert render(in_("en", gdpr)).text.endswith("inform the DPO; the month's statement will be frozen.")
    no_freeze = replace(gdpr, locale="en", facts={**gdpr.facts, "freezes_statement": False})
    assert render(no_freeze).text.endswith("inform the DPO.")


def test_pilot_and_quarterly_review_name_the_attached_report():
    # the committee's message goes out with the report's files: it names the file, never a path on the server
    pilot = render(in_("en", SAMPLES[AlertType.PILOT_VERDICT]))
    assert pilot.text == ("ACME Leads SAS: the pilot has ended, verdict RENEGOTIATE. The contract owner records a "
                          "decision (approve, renegotiate, terminate). "
                          "Report attached: pilot-acme-leads.html (HTML and PDF)")
    assert "Reasons: reject_rate 18.0 % &gt; 15.0 %" in mrkdwn(pilot)
    review = render(SAMPLES[AlertType.QUARTERLY_REVIEW])
    assert review.text == ("Revue de gouvernance 2027-Q1 publiée pour 3 fournisseur(s). "
                           "Lire le rapport avant le comité. Rapport joint : review-2027-Q1.html (HTML et PDF)")
    assert fields(review)[:1] == ["*Fournisseur*\ntous les fournisseurs"]
    without = replace(SAMPLES[AlertType.QUARTERLY_REVIEW], facts={"suppliers": 3, "report_path": None})
    assert render(without).text.endswith("Lire le rapport avant le comité.")


def test_format_helpers():
    assert [format_rate(0.185, "fr"), format_rate(0.185, "en"), format_rate(0.0, "fr")] == ["18,5 %", "18.5%", "0,0 %"]
    assert [format_rate(0.12345, "en"), format_rate(1.0, "en")] == ["12.3%", "100.0%"]
    assert [format_count(40.0, "fr"), format_count(36.8, "fr"), format_count(1500, "en")] == ["40", "36,8", "1,500"]
    assert [format_eur(-12.5, "fr"), format_eur(-12.5, "en")] == ["-12,50 €", "-€12.50"]
    assert [format_date(date(2027, 3, 8), "fr"), format_date("2027-03-08", "en")] == ["08/03/2027", "8 Mar 2027"]
    assert [format_period("overdue:2027-03-12", "en"), format_period("2027-Q1", "fr"),
            format_period("pilot", "fr"), format_period("pilot:2", "en")] == [
        "12 Mar 2027", "2027-Q1", "pilote", "pilot"]


# --- escaping and what is shown -----------------------------------------------------------------

def test_supplier_names_are_escaped_for_mrkdwn():
    assert escape("A<b>&C") == "A&lt;b&gt;&amp;C"
    for kind in AlertType:
        if kind == AlertType.QUARTERLY_REVIEW:
            continue  # names no supplier
        message = render(replace(SAMPLES[kind], supplier_name="A<b>&C"))
        assert "A&lt;b&gt;&amp;C" in message.text
        assert "*Fournisseur*\nA&lt;b&gt;&amp;C" in fields(message)
        assert "A<b>" not in everything(message) and "&C" not in everything(message)


def test_other_data_is_escaped_too():
    pilot = SAMPLES[AlertType.PILOT_VERDICT]
    message = render(replace(pilot, facts={**pilot.facts, "reasons": ["a < b & c"], "report_path": "<x>"}))
    assert "a &lt; b &amp; c" in " ".join(mrkdwn(message))
    assert "&lt;x&gt;" in message.text and "<x>" not in everything(message)


def test_lead_ids_appear_and_nothing_else_unexpected():
    leaky = replace(OVERDUE, facts={**OVERDUE.facts, "email": "jane.doe@example.com", "phone": "+33612345678",
                                    "last_name": "Doe"})
    fr, en = render(leaky), render(in_("en", leaky))
    assert fr.text == ("ACME Leads SAS : 2 remplacements non livrés à temps (échéance 10/03/2027, 11/03/2027) : "
                       "L-00002, L-00009. Avoir sur le relevé de mars 2027 pour chaque lead qui avait été facturé.")
    assert en.text == ("ACME Leads SAS: 2 replacements not delivered in time (due 10 Mar 2027, 11 Mar 2027): "
                       "L-00002, L-00009. Credit note on the Mar 2027 statement for each of these leads "
                       "that was billed.")
    for message in (fr, en):
        shown = everything(message)
        assert "L-00002" in shown and "L-00009" in shown
        assert not any(secret in shown for secret in ("jane", "example.com", "612345678", "Doe"))


def test_many_lead_ids_are_cut_short():
    ids = [f"L-{n:05d}" for n in range(1, 26)]
    many = replace(OVERDUE, locale="en", figure=25, facts={**OVERDUE.facts, "lead_ids": ids})
    text = render(many).text
    assert "L-00020 (+5 more)" in text and "L-00021" not in text


@pytest.mark.parametrize(("figure", "fr", "en"), [
    (1, "ACME Leads SAS : 1 remplacement non livré à temps", "ACME Leads SAS: 1 replacement not delivered in time"),
    (0, "ACME Leads SAS : 0 remplacement non livré à temps", "ACME Leads SAS: 0 replacements not delivered in time"),
    (2, "ACME Leads SAS : 2 remplacements non livrés à temps", "ACME Leads SAS: 2 replacements not delivered in time"),
])
def test_a_summary_that_counts_agrees_with_its_figure(figure, fr, en):
    """A summary counting leads or claims has a singular form (``summary_one``): French takes it for 0 and
    1, English for 1 (``formatting.is_one``)."""
    counted = replace(OVERDUE, figure=float(figure))
    assert render(counted).text.startswith(fr) and render(in_("en", counted)).text.startswith(en)
    for locale in ("fr", "en"):
        ones = [kind for kind, words in WORDING[locale].items() if isinstance(words, dict) and "summary_one" in words]
        assert {str(kind) for kind in ones} == {"GDPR_BREACH", "VOLUME_SHORTFALL", "REPLACEMENT_OVERDUE",
                                                "REVIEW_WAITING"}, locale
