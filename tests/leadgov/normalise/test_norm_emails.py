"""Emails: normalisation, the spec's lists, academic and competitor domains, and the proof that
the fast tiers give exactly email-validator's verdict on a large odd sample."""

from __future__ import annotations

import random
import unicodedata

import email_validator
import idna
import pandas as pd
import pytest

from leadgov.normalise.emails import (
    FREE_EMAIL_DOMAINS,
    GENERIC_LOCAL_PARTS,
    domain_matches,
    is_academic_domain,
    normalise_emails,
)


def reference(raw: str | None) -> tuple[object, str | None, str | None, str | None]:
    """(valid, email, local, domain) per the library and the spec, one value at a time: the local
    part lower-cased, the domain UTS #46 mapped as the library maps it before its checks."""
    if raw is None:
        return (pd.NA, None, None, None)
    value = raw.strip(" \t\r\n\f\v")
    if not value:
        return (pd.NA, None, None, None)
    try:
        email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return (False, None, None, None)
    local, _, domain = value.partition("@")
    local, domain = local.lower(), idna.uts46_remap(domain, std3_rules=False, transitional=False)
    return (True, f"{local}@{domain}", local, domain)


def assert_same_as_reference(values: list[str | None]) -> None:
    out = normalise_emails(pd.Series(values, dtype=object))
    rows = zip(out["valid"], out["email"], out["local"], out["domain"], strict=True)
    got = [tuple(None if (x is not pd.NA and pd.isna(x)) else x for x in row) for row in rows]
    expected = [reference(v) for v in values]
    mismatches = [(v, e, g) for v, e, g in zip(values, expected, got, strict=True) if e != g]
    assert not mismatches[:20], f"{len(mismatches)} mismatches, e.g. {mismatches[:20]}"


# --- Examples ----------------------------------------------------------------------------------


def test_normalised_address_and_parts():
    s = pd.Series(["Jean.Dupont@ACME.fr", "  marie+news@Sub.Acme.CO.uk\t", None, "bad", ""], index=[4, 2, 9, 1, 0])
    out = normalise_emails(s)
    assert list(out.index) == [4, 2, 9, 1, 0]
    assert out["email"].tolist()[:2] == ["jean.dupont@acme.fr", "marie+news@sub.acme.co.uk"]
    assert out["local"].tolist()[:2] == ["jean.dupont", "marie+news"]
    assert out["domain"].tolist()[:2] == ["acme.fr", "sub.acme.co.uk"]
    assert out["valid"].tolist() == [True, True, pd.NA, False, pd.NA]
    assert out["email"].iloc[2:].isna().all()


def test_example_domains_are_accepted_by_the_library():
    # email-validator refuses special-use names (.test, .local, ...) but not .example (RFC 6761).
    out = normalise_emails(pd.Series(["sales@rival-crm.example", "a@b.test", "a@b.LOCAL", "a@x.onion"]))
    assert out["valid"].tolist() == [True, False, False, False]


@pytest.mark.parametrize(
    "raw",
    ['"jean dupont"@acme.fr', "jean..dupont@acme.fr", ".jean@acme.fr", "jean.@acme.fr", "jean@acme",
     "jean@acme.fr.", "jean@-acme.fr", "jean@acme..fr", "jean@[192.168.0.1]", "Jean <jean@acme.fr>",
     "jean@@acme.fr", "jean@acme.123", "jean dupont@acme.fr", "@acme.fr", "jean@"],
)  # fmt: skip
def test_invalid_addresses(raw):
    assert normalise_emails(pd.Series([raw]))["valid"].tolist() == [False]


def test_unicode_addresses_are_lower_cased_as_given():
    out = normalise_emails(pd.Series(["Éric@Société.FR", "x@xn--bcher-kva.de"]))
    assert out["valid"].tolist() == [True, True]
    assert out["email"].tolist() == ["éric@société.fr", "x@xn--bcher-kva.de"]


def test_a_domain_in_fullwidth_letters_or_dots_is_the_domain_it_stands_for():
    raw = ["jean@ｇｍａｉｌ.com", "jean@gmail．com", "jean@gmail。com", "Jean@ＧＭＡＩＬ．ＣＯＭ", "x@ｂüｃｈｅｒ.de",
           "x@rival-crm．example", "x@ｅｔｕ.univ-lyon1.fr"]
    out = normalise_emails(pd.Series(raw))
    assert out["email"].tolist() == ["jean@gmail.com"] * 4 + ["x@bücher.de", "x@rival-crm.example",
                                                             "x@etu.univ-lyon1.fr"]
    assert out["domain"].isin(FREE_EMAIL_DOMAINS).tolist() == [True] * 4 + [False] * 3
    assert domain_matches(out["domain"], ["rival-crm.example"]).tolist() == [False] * 5 + [True, False]
    assert is_academic_domain(out["domain"]).tolist() == [False] * 6 + [True]


def test_the_domain_is_the_librarys_own_unless_written_in_punycode():
    """Without a Punycode label, the normalised domain is the library's `domain` (its canonical form)."""
    values = [lo + "@" + d for lo in ("jean", "Éric", "用户") for d in DOMAINS
              if "xn--" not in unicodedata.normalize("NFKC", d).lower()]
    out = normalise_emails(pd.Series(values))
    for value, valid, domain in zip(values, out["valid"], out["domain"], strict=True):
        if valid:
            library = email_validator.validate_email(value.strip(" \t\r\n\f\v"), check_deliverability=False)
            assert domain == library.domain, value


def test_spec_lists():
    assert len(GENERIC_LOCAL_PARTS) == 28 and {"contact", "no-reply", "serviceclient"} <= GENERIC_LOCAL_PARTS
    assert len(FREE_EMAIL_DOMAINS) == 25 and {"gmail.com", "proton.me", "wanadoo.fr"} <= FREE_EMAIL_DOMAINS


def test_academic_domains():
    domains = pd.Series(
        ["etu.univ-lyon1.fr", "univ-paris1.fr", "univ.fr", "mit.edu", "cs.edu.au", "etudiant.fr", "etud.x.fr",
         "etu.fr", "etudiants.ecole.fr", "education.gouv.fr", "universite.fr", "x.etu.fr", "univers.fr", None],
        index=range(100, 114),
    )  # fmt: skip
    assert is_academic_domain(domains).tolist() == [True] * 9 + [False] * 5
    assert list(is_academic_domain(domains).index) == list(range(100, 114))


def test_domain_matches_equal_or_subdomain_case_insensitive():
    domains = pd.Series(
        ["rival-crm.example", "eu.Rival-CRM.example", "notrival-crm.example", "rival-crm.example.org", None]
    )
    assert domain_matches(domains, ["Rival-CRM.example "]).tolist() == [True, True, False, False, False]
    assert domain_matches(domains, []).tolist() == [False] * 5


# --- Equivalence with the library on a large generated sample ----------------------------------

LATIN1 = "".join(chr(c) for c in range(0xC0, 0x100) if c not in (0xD7, 0xF7)) + "Œœ"
LOCALS = [
    "jean", "Jean.Dupont", "JEAN", "j", "jean+tag", "jean_dupont", "jean-dupont", "o'brien", "a!#$%&'*+/=?^_`{|}~-b",
    "jean..dupont", ".jean", "jean.", '"jean"', '"jean dupont"', '"je\\"an"', "jean dupont", "jean,dupont",
    "jean(x)", "jean<x>", "jean[x]", "jean;x", "jean:x", "jean\\x", "éric", "Éric", "chloé.müller", "ÆØÅ",
    "œuvre", "Œ", "ÿ", "ß", "e\u0301ric", "\u0301eric", "δοκιμή", "ΣΊΣΥΦΟΣ", "用户", "\u212aelvin", "ı", "İlker",
    "jean\u00a0dupont", "jean\u200bdupont", "jean\u202edupont", "\U0001f600", "x" * 64, "x" * 65, "x" * 200,
    "a" * 63 + "é", "",
]  # fmt: skip
DOMAINS = [
    "acme.fr", "ACME.FR", "Acme.Fr", "sub.acme.co.uk", "a.b.c.d.e.fr", "x.io", "acme.c", "acme.co1", "acme.123",
    "acme.1a", "1.2.3.4", "[1.2.3.4]", "[IPv6:::1]", "acme", "localhost", "acme.local", "acme.LOCALHOST",
    "acme.test", "acme.Test", "acme.invalid", "acme.onion", "home.arpa", "acme.example", "rival-crm.example",
    "acme.internal", "test.fr", "local.fr", "acme.fr.", ".acme.fr", "acme..fr", "-acme.fr", "acme-.fr",
    "ac-me.fr", "ac--me.fr", "ab--cd.fr", "xn--bcher-kva.de", "xn--abc.fr", "xn--p1ai.xn--p1ai", "xn--.fr",
    "bücher.de", "BÜCHER.de", "société.fr", "日本.jp", "пример.рф", "acme。fr", "acme．fr", "acme_x.fr",
    "acme fr", "acme.fr ", "ac\u00adme.fr", "\u0301acme.fr", "acme.f\u0301r", "ａｃｍｅ.fr", "K.fr", "\u212a.fr",
    "ｇｍａｉｌ.com", "gmail．com", "gmail｡com", "ＧＭＡＩＬ.ＣＯＭ", "ｂüｃｈｅｒ.de", "ｘｎ－－bcher-kva.de",
    "bu\u0308cher.de", "ΣΊΣΥΦΟΣ.gr", "ＳＴＲＡＳＳＥ.de", "straße.de", "ﬁ.fr",
    "a" * 63 + ".fr", "a" * 64 + ".fr", ("a" * 60 + ".") * 4 + "fr", "b" * 62 + ".com", "b" * 63 + ".com",
    "acme.fr@x.fr", "acme.fr>", "", "xn--ls8h.la", "\U0001f600.fr", "a.b", "שלום.co.il", "1.אב.com",
]  # fmt: skip
WRAPPERS = [
    lambda e: e, lambda e: e, lambda e: e, lambda e: " " + e + " ", lambda e: e + "\t", lambda e: e.upper(),
    lambda e: "Jean <" + e + ">", lambda e: "<" + e + ">", lambda e: e + ".", lambda e: e.replace("@", "@@"),
    lambda e: e.replace("@", "＠"), lambda e: e.replace("@", " @ "), lambda e: e.replace("@", ""),
    lambda e: "\u00a0" + e,
]  # fmt: skip


def generated_sample(n: int, seed: int) -> list[str | None]:
    rng = random.Random(seed)
    values: list[str | None] = []
    for i in range(n):
        kind = i % 10
        if kind < 4:  # ordinary: random atext local parts and domains
            chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789._+-'"
            local = "".join(rng.choice(chars) for _ in range(rng.randint(1, 20)))
            labels = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyzXYZ0123456789-") for _ in range(rng.randint(1, 12)))
                      for _ in range(rng.randint(1, 3))]  # fmt: skip
            tld = rng.choice(["fr", "com", "CO", "io", "de", "museum", "x", "c1", "test", "local", "example", "1"])
            values.append(local + "@" + ".".join(labels) + "." + tld)
        elif kind < 6:  # Latin-1 local parts
            local = "".join(rng.choice("abcXYZ09._" + LATIN1) for _ in range(rng.randint(1, 12)))
            values.append(local + "@" + rng.choice(DOMAINS[:6] + DOMAINS[39:43]))
        elif kind < 9:  # odd combinations
            values.append(rng.choice(WRAPPERS)(rng.choice(LOCALS) + "@" + rng.choice(DOMAINS)))
        else:  # lengths around the limits
            local = "x" * rng.randint(1, 70)
            domain = ".".join("d" * rng.randint(1, 63) for _ in range(rng.randint(1, 5))) + ".fr"
            values.append(local + "@" + domain if rng.random() < 0.97 else None)
    return values


def test_fast_tiers_equal_library_on_50k_addresses():
    assert_same_as_reference(generated_sample(50_000, seed=11))


def test_every_local_part_with_every_domain():
    assert_same_as_reference([lo + "@" + d for lo in LOCALS for d in DOMAINS])


def test_every_latin1_letter_in_both_cases():
    values = [f"{c}x.{c.upper()}@acme.fr" for c in LATIN1] + [f"{c}@ACME.fr" for c in LATIN1]
    assert_same_as_reference(values + [v.upper() for v in values])


def test_length_boundaries():
    values = []
    for local_len in (1, 63, 64, 65, 100, 189, 190, 191):
        for domain_len in (60, 61, 62, 63, 64, 65):
            domain = "d" * (domain_len - 3) + ".fr"
            values.append("x" * local_len + "@" + domain)
            values.append("é" * local_len + "@" + domain)
        for labels in (1, 2, 3, 4):
            domain = ".".join(["d" * 63] * labels) + ".fr"
            values.append("x" * local_len + "@" + domain)
            values.append("x" * local_len + "@" + domain.replace("d", "ü", 1))
    assert_same_as_reference(values)


def _domain_of_length(length: int, first: str = "d") -> str:
    """An ASCII domain of exactly `length` characters, labels of at most 63, ending in ".fr"."""
    body, labels = length - 3, []
    while body > 0:
        size = min(63, body) if body - min(63, body) != 1 else 62  # never leave a 0-length label
        labels.append("d" * size)
        body -= size + 1
    return first + ".".join(labels)[1:] + ".fr"


def test_total_length_boundaries():
    values = []
    for local in ("x" * 10, "x" * 64, "é" * 32, "é" * 64, "Œ" * 40):
        for total in (252, 253, 254, 255, 256):
            domain_len = total - 1 - len(local.encode())
            if domain_len >= 4:
                values.append(local + "@" + _domain_of_length(domain_len))
                values.append(local + "@" + _domain_of_length(domain_len, first="ü"))
                values.append(local + "@" + _domain_of_length(domain_len, first="ü")[:-3] + ".FR")
    for label in (62, 63, 64, 65):
        values.append("x@" + "d" * label + ".fr")
        values.append("x@a." + "d" * label + ".fr")
    assert len(values) > 50
    assert_same_as_reference(values)


def test_ordinary_addresses_do_not_reach_the_library(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("library called")

    monkeypatch.setattr(email_validator, "validate_email", forbidden)
    out = normalise_emails(pd.Series(["Jean.Dupont@acme.fr", "éric.müller+x@sub.big-corp.com", "a'b@x.io"]))
    assert out["valid"].all()


def test_each_distinct_domain_or_value_reaches_the_library_once(monkeypatch):
    calls: list[str] = []
    real = email_validator.validate_email

    def counting(value, **kwargs):
        calls.append(value)
        return real(value, **kwargs)

    monkeypatch.setattr(email_validator, "validate_email", counting)
    s = pd.Series([f"user{i}@société.fr" for i in range(500)] + ['"q"@acme.fr'] * 500)
    out = normalise_emails(s)
    assert out["valid"].tolist() == [True] * 500 + [False] * 500
    assert sorted(calls) == sorted(["x@société.fr", '"q"@acme.fr'])
