"""Reading deliveries and CRM exports (leadgov.reading): encodings, delimiters, headers,
refusals, JSON, and the faithfulness of the raw records."""

import codecs
import csv
import hashlib
import io
import json
import unicodedata

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadgov.reading import (
    CANONICAL_FIELDS,
    RawDelivery,
    ReadOptions,
    UnreadableFile,
    decode,
    read_crm_export,
    read_delivery,
    sniff_delimiter,
)

ACME_COLUMNS = {
    "Ref": "lead_id",
    "Code postal": "postal_code",
    "SIREN": "siren",
    "Prénom": "first_name",
    "Email": "email",
    "Téléphone": "phone",
}


def read(text: str | bytes, **options) -> RawDelivery:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return read_delivery(data, ReadOptions(**options), source="acme.csv")


def refusal(text: str | bytes, **options) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as caught:
        read(text, **options)
    return caught.value


def row(delivery, i: int = 0) -> dict:
    return delivery.frame.iloc[i].to_dict()


# --- canonical fields and the shape of the result ---------------------------------------


def test_canonical_fields_follow_the_spec_table():
    assert CANONICAL_FIELDS[:3] == ("lead_id", "collected_at", "company_name")
    assert CANONICAL_FIELDS[-2:] == ("replaces_lead_id", "notice_sent_at")
    assert len(CANONICAL_FIELDS) == 24


def test_frame_has_every_canonical_field_as_text_in_file_order():
    d = read("lead_id;email\nL1;a@x.fr\nL2;b@x.fr\nL3;\n")
    assert list(d.frame.columns) == list(CANONICAL_FIELDS)
    assert isinstance(d.frame.index, pd.RangeIndex) and list(d.frame.index) == [0, 1, 2]
    assert all(pd.api.types.is_string_dtype(t) for t in d.frame.dtypes)
    assert d.frame["lead_id"].tolist() == ["L1", "L2", "L3"]
    assert d.frame["phone"].isna().all()
    assert pd.isna(d.frame.at[2, "email"])
    assert len(d.raw_records) == 3


def test_sha256_is_of_the_file_bytes():
    data = b"lead_id;email\nL1;a@x.fr\n"
    assert read(data).sha256 == hashlib.sha256(data).hexdigest()


# --- encodings ------------------------------------------------------------------------------


def test_utf8():
    d = read("lead_id;first_name\nL1;Zoé\n")
    assert d.encoding == "utf-8" and row(d)["first_name"] == "Zoé"


def test_utf8_with_bom_matches_the_first_header():
    d = read(codecs.BOM_UTF8 + "Ref;Prénom\nL1;Zoé\n".encode(), columns=ACME_COLUMNS)
    assert d.encoding == "utf-8-sig"
    assert row(d)["lead_id"] == "L1" and row(d)["first_name"] == "Zoé"
    assert json.loads(d.raw_records[0]) == {"Ref": "L1", "Prénom": "Zoé"}


def test_cp1252_detected_when_not_utf8():
    d = read("Ref;Prénom;need\nL1;Élodie;budget 5 000 €\n".encode("cp1252"), columns=ACME_COLUMNS)
    assert d.encoding == "cp1252"
    assert row(d)["first_name"] == "Élodie" and row(d)["need"] == "budget 5 000 €"


def test_latin1_declared():
    d = read("Ref;Prénom\nL1;Zoé\n".encode("latin-1"), columns=ACME_COLUMNS, encoding="latin-1")
    assert d.encoding == "latin-1" and row(d)["first_name"] == "Zoé"


def test_utf16_with_bom():
    d = read(codecs.BOM_UTF16_LE + "lead_id;first_name\nL1;Zoé\n".encode("utf-16-le"))
    assert d.encoding == "utf-16-le" and row(d)["first_name"] == "Zoé"


def test_declared_utf8_on_cp1252_bytes_is_refused_with_offset_and_line():
    err = refusal("lead_id;first_name\nL1;Zoé\n".encode("cp1252"), encoding="utf-8")
    assert "utf-8" in str(err) and "acme.csv" in str(err)
    assert err.line == 2 and "offset 24" in str(err)
    assert "Zo" not in str(err)


def test_declared_single_byte_encoding_on_utf8_bytes_is_refused():
    err = refusal("lead_id;first_name\nL1;Zoé\n", encoding="cp1252")
    assert "cp1252" in str(err) and "UTF-8" in str(err)


def test_declared_encoding_contradicted_by_a_bom_is_refused():
    err = refusal(codecs.BOM_UTF8 + b"lead_id;x\nL1;y\n", encoding="latin-1")
    assert "byte-order mark" in str(err)


def test_bytes_undefined_in_cp1252_are_refused_in_auto():
    err = refusal(b"lead_id;x\nL1;\x81\n")
    assert "neither UTF-8 nor cp1252" in str(err) and err.line == 2


def test_decode_function():
    assert decode("é".encode(), "auto", source="f") == ("é", "utf-8")
    assert decode("é".encode("cp1252"), "auto", source="f") == ("é", "cp1252")
    assert decode(codecs.BOM_UTF8 + b"a", "auto", source="f") == ("a", "utf-8-sig")
    assert decode(codecs.BOM_UTF16_BE + "é".encode("utf-16-be"), "auto", source="f") == ("é", "utf-16-be")
    with pytest.raises(UnreadableFile, match="utf-8"):
        decode(b"\xe9", "utf-8", source="f")


# --- delimiters -------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_delimiter_is_sniffed(delimiter):
    text = delimiter.join(["lead_id", "company_name", "email"]) + "\n"
    text += delimiter.join(["L1", '"Durand, Fils; et Cie"', "a@x.fr"]) + "\n"
    d = read(text)
    assert d.delimiter == delimiter
    assert row(d)["company_name"] == "Durand, Fils; et Cie"


def test_sniff_delimiter_ignores_quoted_parts():
    assert sniff_delimiter('"Nom; prénom",Email,Tel') == ","
    assert sniff_delimiter("a;b;c,d") == ";"
    assert sniff_delimiter("a\tb\tc") == "\t"


def test_sniff_delimiter_refuses_single_column_and_ties():
    with pytest.raises(UnreadableFile, match="single column"):
        sniff_delimiter("lead_id")
    with pytest.raises(UnreadableFile, match="ambiguous"):
        sniff_delimiter("a;b,c")


def test_declared_delimiter_is_used():
    d = read("lead_id,company_name\nL1,ACME;y\n", delimiter=",")
    assert d.delimiter == "," and row(d)["company_name"] == "ACME;y"


def test_declared_delimiter_absent_from_header_is_refused():
    assert "single column" in str(refusal("lead_id;email\nL1;a@x.fr\n", delimiter=","))


def test_single_column_file_is_refused():
    assert "delimiter" in str(refusal("lead_id\nL1\n"))


# --- headers --------------------------------------------------------------------------------


def test_header_matching_ignores_case_spaces_and_bom():
    text = "\ufeff  REF ;code POSTAL ; siren\nL1;01000;552100554\n"
    d = read(text, columns=ACME_COLUMNS)
    assert row(d)["lead_id"] == "L1" and row(d)["postal_code"] == "01000"
    assert row(d)["siren"] == "552100554"


def test_header_matching_ignores_unicode_normalisation():
    nfd = unicodedata.normalize("NFD", "Prénom")
    d = read(f"Ref;{nfd}\nL1;Zoé\n", columns=ACME_COLUMNS)
    assert row(d)["first_name"] == "Zoé"


def test_canonical_headers_pass_as_is():
    d = read("Lead_ID;Email;job_title\nL1;a@x.fr;CTO\n", columns={"Ref": "lead_id"})
    assert row(d)["lead_id"] == "L1" and row(d)["email"] == "a@x.fr" and row(d)["job_title"] == "CTO"
    assert d.extra_columns == ()


def test_two_headers_for_one_field_are_refused_naming_both():
    err = refusal("Ref;lead_id;email\nL1;L2;a@x.fr\n", columns={"Ref": "lead_id"})
    assert "'Ref'" in str(err) and "'lead_id'" in str(err)
    assert "L1" not in str(err)


def test_extra_columns_are_kept_in_raw_records():
    d = read("Ref;Commentaire;Email;Score\nL1;rappeler lundi;a@x.fr;12\n", columns=ACME_COLUMNS)
    assert d.extra_columns == ("Commentaire", "Score")
    assert json.loads(d.raw_records[0]) == {
        "Ref": "L1",
        "Commentaire": "rappeler lundi",
        "Email": "a@x.fr",
        "Score": "12",
    }


def test_duplicate_extra_headers_and_trailing_delimiters():
    d = read("lead_id;Note;Note;\nL1;a;b;\n")
    assert d.extra_columns == ("Note", "Note (2)")
    assert json.loads(d.raw_records[0]) == {"lead_id": "L1", "Note": "a", "Note (2)": "b"}


def test_missing_required_column_is_refused_with_its_name_and_expected_header():
    err = refusal("Ref;Email\nL1;a@x.fr\n", columns=ACME_COLUMNS, required_fields=("lead_id", "siren", "need"))
    message = str(err)
    assert "siren" in message and "'SIREN'" in message and "need" in message
    assert "lead_id" not in message.split(":", 1)[1]


def test_required_columns_present_but_empty_cells_are_fine():
    d = read("Ref;SIREN\nL1;\n", columns=ACME_COLUMNS, required_fields=("lead_id", "siren"))
    assert pd.isna(row(d)["siren"])


# --- cells ------------------------------------------------------------------------------------


def test_cells_are_text_with_leading_zeros_and_no_na_guessing():
    d = read("lead_id;postal_code;siren;employees;last_name;campaign\nL1;01000;012345678;0012;NA;null\n")
    r = row(d)
    assert r["postal_code"] == "01000" and r["siren"] == "012345678" and r["employees"] == "0012"
    assert r["last_name"] == "NA" and r["campaign"] == "null"


def test_cells_are_trimmed_and_blank_is_missing():
    d = read('lead_id;first_name;last_name;email\n  L1 ;"  ";\u00a0\t;" a@x.fr "\n')
    r = row(d)
    assert r["lead_id"] == "L1" and r["email"] == "a@x.fr"
    assert pd.isna(r["first_name"]) and pd.isna(r["last_name"])
    assert json.loads(d.raw_records[0])["lead_id"] == "  L1 "


def test_quoted_cells_with_delimiters_newlines_and_quotes():
    text = 'lead_id;need;company_name\nL1;"CRM; ERP\nmigration";"Le ""Bon"" Coin"\nL2;x;y\n'
    d = read(text)
    assert row(d)["need"] == "CRM; ERP\nmigration"
    assert row(d)["company_name"] == 'Le "Bon" Coin'
    assert row(d, 1)["lead_id"] == "L2"
    assert json.loads(d.raw_records[0])["need"] == "CRM; ERP\nmigration"


def test_blank_lines_and_blank_rows_are_skipped():
    d = read("\n\nlead_id;email\n\nL1;a@x.fr\n   \n;\n ; \nL2;b@x.fr\n\n")
    assert d.frame["lead_id"].tolist() == ["L1", "L2"]
    assert len(d.raw_records) == 2


def test_short_rows_have_missing_cells():
    d = read("lead_id;email;phone\nL1;a@x.fr\nL2;b@x.fr;0612345678\n")
    assert pd.isna(row(d)["phone"]) and row(d, 1)["phone"] == "0612345678"


def test_crlf_line_endings():
    d = read("lead_id;email\r\nL1;a@x.fr\r\nL2;b@x.fr\r\n")
    assert d.frame["email"].tolist() == ["a@x.fr", "b@x.fr"]


def test_header_only_file_has_zero_rows():
    d = read("Ref;Email\n", columns=ACME_COLUMNS, required_fields=("lead_id", "email"))
    assert len(d.frame) == 0 and list(d.frame.columns) == list(CANONICAL_FIELDS)
    assert len(d.raw_records) == 0


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t", codecs.BOM_UTF8])
def test_empty_files_are_refused(data):
    err = refusal(data)
    assert "empty" in str(err) or "whitespace" in str(err)
    assert str(err).startswith("acme.csv")


def test_nul_byte_is_refused():
    err = refusal(b"lead_id;email\nL1;a\x00b\n")
    assert "NUL" in str(err) and err.line == 2


def test_row_with_too_many_cells_is_refused_with_its_physical_line():
    text = 'lead_id;need;email\nL1;"two\nlines";a@x.fr\n\nL2;x;b@x.fr;0612345678\n'
    err = refusal(text)
    assert err.line == 5 and "4 cells" in str(err) and "3" in str(err)
    assert "0612345678" not in str(err) and "b@x.fr" not in str(err)


def test_file_cut_inside_a_quoted_field_is_refused():
    err = refusal('lead_id;need;email\nL1;x;a@x.fr\nL2;"secret need\nsur deux lignes;b@')
    assert "unterminated quoted field" in str(err) and err.line == 3
    assert "secret" not in str(err)


def test_file_cut_inside_a_quoted_field_with_matching_cell_count_is_refused():
    err = refusal('lead_id;need\nL1;x\nL2;"secret\nL3;y\n')
    assert "unterminated" in str(err) and err.line == 3


def test_stray_literal_quote_is_text():
    d = read('lead_id;need\nL1;écran 27" incurvé\nL2;x\n')
    assert row(d)["need"] == 'écran 27" incurvé'


def test_json_declared_but_not_json_is_refused():
    assert "not JSON" in str(refusal("lead_id;email\nL1;a@x.fr\n", format="json"))


# --- JSON -----------------------------------------------------------------------------------------


def test_json_array_of_objects():
    text = json.dumps(
        [
            {"Ref": "L1", "SIREN": "012345678", "employees": 12, "budget_eur": 12.5, "Note": "x"},
            {"Ref": "L2", "Email": " b@x.fr ", "employees": None, "consent_proof": ""},
        ]
    )
    d = read(text, format="json", columns=ACME_COLUMNS)
    assert d.delimiter is None and d.extra_columns == ("Note",)
    assert row(d)["siren"] == "012345678" and row(d)["employees"] == "12" and row(d)["budget_eur"] == "12.5"
    assert row(d, 1)["email"] == "b@x.fr"
    assert pd.isna(row(d, 1)["employees"]) and pd.isna(row(d, 1)["consent_proof"]) and pd.isna(row(d, 1)["siren"])
    assert json.loads(d.raw_records[1]) == {"Ref": "L2", "Email": " b@x.fr ", "employees": None, "consent_proof": ""}


def test_json_numbers_keep_their_written_text():
    d = read('[{"lead_id": 7, "budget_eur": 12.50, "employees": 1e3, "campaign": true, "need": {"a": [1]}}]',
             format="json")
    r = row(d)
    assert r["lead_id"] == "7" and r["budget_eur"] == "12.50" and r["employees"] == "1e3"
    assert r["campaign"] == "true" and r["need"] == '{"a":[1]}'


def test_json_lines():
    text = '{"lead_id": "L1", "email": "a@x.fr"}\n\n{"lead_id": "L2", "phone": "0612345678"}\n'
    d = read(text, format="json", required_fields=("lead_id",))
    assert d.frame["lead_id"].tolist() == ["L1", "L2"]
    assert pd.isna(row(d, 1)["email"]) and row(d, 1)["phone"] == "0612345678"
    assert d.raw_records.tolist() == ['{"lead_id": "L1", "email": "a@x.fr"}',
                                      '{"lead_id": "L2", "phone": "0612345678"}']


def test_json_same_header_rules():
    err = refusal('[{"Email": "a@x.fr"}, {"email": "b@x.fr"}]', format="json")
    assert "'Email'" in str(err) and "'email'" in str(err)
    err = refusal('[{"lead_id": "L1"}]', format="json", required_fields=("lead_id", "email"))
    assert "email" in str(err)


def test_json_empty_array_is_an_empty_delivery():
    d = read("[]", format="json", required_fields=("lead_id",))
    assert len(d.frame) == 0 and len(d.raw_records) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', None),
        ('[{"lead_id": "L1"}, 3]', "record 2 is not a JSON object"),
        ('"hello"', "not JSON"),
        ('[{"lead_id": "L1"},\n{"lead_id": "L2"', "invalid JSON"),
        ('[{"lead_id": "L1"}] x', "after the JSON array"),
        ('{"lead_id": "L1"}\n{"lead_id": oops}', "invalid JSON"),
        ('[{"lead_id": "L\\u0000"}]', "NUL"),
    ],
)
def test_json_refusals(text, expected):
    if expected is None:
        read(text, format="json")
        return
    assert expected in str(refusal(text, format="json"))


def test_json_error_names_the_line():
    assert refusal('{"lead_id": "L1"}\n{"lead_id": oops}', format="json").line == 2


# --- CRM export ---------------------------------------------------------------------------------


def test_crm_export_keeps_email_and_phone():
    crm = read_crm_export(b" EMAIL ;Nom;Phone\n a@x.fr ;Durand;06 12 34 56 78\n;Martin;\nb@x.fr;Petit;\n")
    assert list(crm.columns) == ["email", "phone"]
    assert crm["email"].tolist()[0] == "a@x.fr" and pd.isna(crm.at[1, "email"])
    assert crm.at[0, "phone"] == "06 12 34 56 78" and pd.isna(crm.at[2, "phone"])
    assert len(crm) == 3


def test_crm_export_with_a_single_column_and_cp1252():
    crm = read_crm_export("Email\nrené@x.fr\n".encode("cp1252"))
    assert crm["email"].tolist() == ["rené@x.fr"] and crm["phone"].isna().all()


def test_crm_export_without_email_or_phone_is_refused():
    with pytest.raises(UnreadableFile, match="email"):
        read_crm_export(b"Nom;Prenom\nDurand;Luc\n", source="crm.csv")


# --- options ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"format": "xml"},
        {"encoding": "utf-16"},
        {"delimiter": "|"},
        {"columns": {"Ref": "reference"}},
        {"columns": {"Ref": "lead_id", " ref ": "email"}},
        {"required_fields": ("nope",)},
    ],
)
def test_invalid_options_fail_when_the_contract_is_loaded(options):
    with pytest.raises(ValueError):
        ReadOptions(**options)


def test_options_accept_lists_from_yaml():
    assert ReadOptions(required_fields=["lead_id"]).required_fields == ("lead_id",)


# --- the two CSV paths agree, and raw records are faithful ----------------------------------------

cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(cell_text, cell_text, cell_text), max_size=8), st.sampled_from([";", ",", "\t"]))
def test_any_cells_round_trip(rows, delimiter):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(["lead_id", "need", "Remarque", "company_name"])
    for i, cells in enumerate(rows):
        writer.writerow([f"L{i}", *cells])
    d = read(buffer.getvalue())
    assert len(d.frame) == len(rows)
    for i, (need, remark, company) in enumerate(rows):
        expected_need = need.strip() or None
        actual_need = d.frame.at[i, "need"]
        assert (pd.isna(actual_need) and expected_need is None) or actual_need == expected_need
        assert json.loads(d.raw_records[i]) == {
            "lead_id": f"L{i}",
            "need": need,
            "Remarque": remark,
            "company_name": company,
        }


def test_tolerant_path_reads_like_the_fast_path():
    body = 'lead_id;need;email\nL1;"a;b\nc";a@x.fr\nL2; x ;\n'
    fast = read(body)
    slow = read(body + "L3;short\n")  # a short row sends the file to the tolerant reader
    pd.testing.assert_frame_equal(slow.frame.iloc[:2], fast.frame)
    assert slow.raw_records.tolist()[:2] == fast.raw_records.tolist()
    assert pd.isna(row(slow, 2)["email"])


def test_unreadable_file_messages_and_pickling():
    import pickle

    err = UnreadableFile("acme.csv", "row too long", line=4)
    assert str(err) == "acme.csv, line 4: row too long" and (err.source, err.line) == ("acme.csv", 4)
    copy = pickle.loads(pickle.dumps(err))
    assert str(copy) == str(err) and copy.line == 4 and copy.problem == "row too long"
    plain = UnreadableFile("big.csv: 10 bytes is more than the 5-byte limit")
    assert str(plain) == "big.csv: 10 bytes is more than the 5-byte limit" and plain.source is None
    assert str(pickle.loads(pickle.dumps(plain))) == str(plain)
    assert isinstance(err, ValueError)


def test_whitespace_lines_before_the_header():
    d = read(b" \t \n\nlead_id\temail\nL1\ta@x.fr\n")
    assert d.frame["lead_id"].tolist() == ["L1"] and d.extra_columns == ()
    err = refusal(b"  \n\nlead_id;email\nL1;a@x.fr\nL2;b;c\n")
    assert err.line == 5


def test_two_encodings_are_refused_even_beside_a_control_byte():
    """A stray control byte (here 0x1F) does not make a file binary: "Ã" + NBSP in cp1252 is the UTF-8
    letter "à", so this file mixes two encodings and is refused (it used to be read as cp1252)."""
    data = "lead_id;need\n;\x1f\xa0".encode("cp1252") + b"\xc3\xa0\n"
    with pytest.raises(UnreadableFile, match="two encodings mixed"):
        read_delivery(data, ReadOptions(encoding="cp1252"), source="c.csv")
