"""Spanish DNI/NIE and passport validation for booking forms."""

import pytest

from pwa_app.common.documents import (
    DocumentError, check_document, control_letter, document_kind, last_four, normalize_document,
)


def error_code(raw: str) -> str:
    with pytest.raises(DocumentError) as exc:
        check_document(raw)
    return exc.value.code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12345678z", "12345678Z"),
        (" 12.345.678-z ", "12345678Z"),
        ("x-1234567-l", "X1234567L"),
        ("\t12 345 678\u00a0Z", "12345678Z"),
    ],
)
def test_normalize_document(raw, expected):
    assert normalize_document(raw) == expected


def test_normalize_only_upper_cases_ascii():
    # "ß".upper() == "SS": that must not turn into a valid-looking document.
    assert normalize_document("abcßı123") == "ABCßı123"


@pytest.mark.parametrize(
    ("number", "letter"),
    [("12345678", "Z"), ("00000000", "T"), ("99999999", "R"), ("01234567", "L")],
)
def test_control_letter(number, letter):
    assert control_letter(number) == letter


@pytest.mark.parametrize(
    ("raw", "expected", "kind"),
    [
        ("12345678Z", "12345678Z", "dni"),
        ("12345678-z", "12345678Z", "dni"),
        ("00000000T", "00000000T", "dni"),
        ("X1234567L", "X1234567L", "nie"),
        ("y1234567x", "Y1234567X", "nie"),
        ("Z 1234567 R", "Z1234567R", "nie"),
        ("x.1234567.l", "X1234567L", "nie"),
    ],
)
def test_valid_dni_and_nie(raw, expected, kind):
    assert check_document(raw) == expected
    assert document_kind(expected) == kind


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1234567L", "01234567L"), ("123456S", "00123456S"), ("1.234.567-l", "01234567L")],
)
def test_short_dni_is_left_padded(raw, expected):
    assert check_document(raw) == expected
    assert document_kind(expected) == "dni"


def test_five_digit_dni_is_not_padded():
    # Padding stops at 6 digits: "12345V" is judged as a passport number,
    # and "1234V" is too short to be anything.
    assert check_document("12345V") == "12345V"
    assert document_kind("12345V") == "passport"
    assert error_code("1234V") == "format"


@pytest.mark.parametrize(
    "raw",
    ["12345678A", "12345678-a", "1234567M", "X1234567A", "Y1234567L", "Z1234567X"],
)
def test_wrong_control_letter(raw):
    assert error_code(raw) == "letter"


@pytest.mark.parametrize("raw", ["12345678", "1234567", "X1234567", "12 345 678"])
def test_digits_without_letter(raw):
    assert error_code(raw) == "format"


@pytest.mark.parametrize("raw", ["", "   ", " . - ", None])
def test_empty(raw):
    assert error_code(raw) == "empty"


def test_too_long():
    assert error_code("A" * 21) == "too_long"
    assert error_code("A" * 20) == "format"  # 20 is allowed, then judged
    assert error_code("<script>alert(1)</script>") == "too_long"


def test_separators_do_not_count_towards_length():
    assert check_document("12 . 345 . 678 - Z - - - - -") == "12345678Z"


@pytest.mark.parametrize(
    "raw",
    [
        "<script>",
        "<b>1234</b>",
        "1234'--",
        "12345678Z;",
        "AB_123456",
        "PAÑ123456",
        "ABCßı123",
        "12345678\u0396",  # Greek capital zeta, looks like Z
        "١٢٣٤٥٦٧٨Z",  # Arabic-Indic digits, matched by \d
    ],
)
def test_other_characters(raw):
    assert error_code(raw) == "format"


@pytest.mark.parametrize(
    "raw",
    [
        "PAA123456",  # Spanish passport
        "paa-123-456",
        "C01X00T47",  # German
        "123456789",  # US/UK: digits only
        "12AB34567",  # French
        "A1B2C3",  # 6, the minimum
        "AB12345678CD",  # 12, the maximum
    ],
)
def test_passports(raw):
    doc = check_document(raw)
    assert doc == normalize_document(raw)
    assert document_kind(doc) == "passport"


@pytest.mark.parametrize(
    "raw",
    [
        "PASSPORT",  # no digit: a word, not a number
        "A1B2C",  # under 6
        "AB123456789CD",  # 13, over 12
    ],
)
def test_not_a_passport(raw):
    assert error_code(raw) == "format"


def test_error_is_a_value_error_with_code():
    with pytest.raises(ValueError):
        check_document("12345678A")
    assert DocumentError("letter").code == "letter"


@pytest.mark.parametrize(
    ("doc", "tail"),
    [("12345678Z", "678Z"), ("X1234567L", "567L"), ("PAA123456", "3456")],
)
def test_last_four(doc, tail):
    assert last_four(doc) == tail
