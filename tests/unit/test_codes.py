"""Crockford base32 booking codes."""

import pytest

from pwa_app.common.codes import ALPHABET, format_code, new_code, normalize_code


def test_alphabet_is_crockford():
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_new_code_default_length_and_alphabet():
    code = new_code()
    assert len(code) == 10
    assert set(code) <= set(ALPHABET)


@pytest.mark.parametrize("length", [6, 12, 16])
def test_new_code_length(length):
    assert len(new_code(length)) == length


@pytest.mark.parametrize("length", [0, 5, 17])
def test_new_code_rejects_lengths_normalize_would_reject(length):
    with pytest.raises(ValueError):
        new_code(length)


def test_ten_thousand_codes_are_unique_and_cover_the_alphabet():
    codes = [new_code() for _ in range(10_000)]
    assert len(set(codes)) == len(codes)
    assert set("".join(codes)) == set(ALPHABET)
    assert all(normalize_code(c) == c for c in codes)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("abcde-fghjk", "ABCDEFGHJK"),
        (" ABCDE FGHJK ", "ABCDEFGHJK"),
        ("o0oO0-iIlL1", "0000011111"),
        ("ab12cd", "AB12CD"),
        ("0123456789ABCDEF", "0123456789ABCDEF"),
    ],
)
def test_normalize_code(raw, expected):
    assert normalize_code(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ABCDE",  # 5, too short
        "0123456789ABCDEFG",  # 17, too long
        "ABCDE-FGHJU",  # U is not in the alphabet
        "ABCDE_FGHJK",
        "ABCDE.FGHJK",
        "<script>",
        "ßßßßßß",  # str.upper() would make "SSSSSSSSSSSS"
        "ABCDEFGHJ\u0406",  # Cyrillic I
        None,
    ],
)
def test_normalize_code_rejects(raw):
    with pytest.raises(ValueError):
        normalize_code(raw)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ABCDEFGHJK", "ABCDE-FGHJK"),
        ("ABCDEF", "ABCDE-F"),
        ("0123456789ABCDEF", "01234-56789-ABCDE-F"),
        ("abcde fghjk", "ABCDE-FGHJK"),
    ],
)
def test_format_code(code, expected):
    assert format_code(code) == expected


def test_format_code_round_trips():
    code = new_code()
    assert format_code(format_code(code)) == format_code(code)
    assert normalize_code(format_code(code)) == code
