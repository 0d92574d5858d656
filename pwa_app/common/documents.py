"""Spanish identity documents (DNI, NIE) and passports for booking forms.

Rules, in the order ``check_document`` applies them:

* Spaces, dots and hyphens are dropped and ASCII letters upper-cased.
* Empty -> ``empty``; more than 20 characters -> ``too_long``; anything
  but A-Z/0-9 -> ``format``.
* DNI: 8 digits + control letter. 6 or 7 digits + letter are accepted and
  left-padded with zeros ("1234567L" -> "01234567L"): old DNIs are often
  written without the leading zero. Fewer digits are not padded, so short
  junk never passes as a DNI by a 1-in-23 letter match.
* NIE: X/Y/Z + 7 digits + control letter, X/Y/Z counting as 0/1/2.
* DNI/NIE-shaped with the wrong letter -> ``letter``. DNI/NIE digits
  without any letter -> ``format`` (a forgotten letter, not a passport).
* Passport: otherwise, 6-12 letters/digits with at least one digit.
  All-digit numbers (US, UK: 9 digits) are fine; a pure word is not.
  Consequence: a foreign passport shaped exactly like a DNI/NIE is judged
  as one; that is rare enough to accept.
"""

import re
import string

from pwa_app.common.errors import DomainError

CONTROL_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
MAX_LENGTH = 20

_SEPARATORS = re.compile(r"[\s.\-]+")
# ASCII-only upper-casing: str.upper() turns "ß" into "SS" and "ı" into "I",
# which would let non-ASCII input turn into a valid-looking document.
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)

_ALNUM = re.compile(r"[A-Z0-9]+")
_DNI = re.compile(r"(\d{6,8})([A-Z])")
_NIE = re.compile(r"([XYZ])(\d{7})([A-Z])")
_DIGITS_WITHOUT_LETTER = re.compile(r"[XYZ]?\d{6,8}")
_PASSPORT = re.compile(r"(?=.*\d)[A-Z0-9]{6,12}")
_NIE_PREFIX = {"X": "0", "Y": "1", "Z": "2"}


class DocumentError(DomainError, ValueError):
    """Invalid document; ``code`` is "empty" | "too_long" | "format" | "letter"."""

    def __init__(self, code: str) -> None:
        super().__init__({"document": code})

    @property
    def form_code(self) -> str:
        """The code of the forms' message for this document field."""
        return "required" if self.code == "empty" else f"document_{self.code}"


def normalize_document(raw: str) -> str:
    """Canonical form: no spaces, dots or hyphens; ASCII letters upper-case."""
    return _SEPARATORS.sub("", raw or "").translate(_ASCII_UPPER)


def control_letter(number: str) -> str:
    """Control letter for the numeric part of a DNI/NIE."""
    return CONTROL_LETTERS[int(number) % 23]


def check_document(raw: str) -> str:
    """Return the normalised document or raise ``DocumentError``."""
    doc = normalize_document(raw)
    if not doc:
        raise DocumentError("empty")
    # Length before anything else: cheap bound on hostile input.
    if len(doc) > MAX_LENGTH:
        raise DocumentError("too_long")
    if not _ALNUM.fullmatch(doc):
        raise DocumentError("format")
    if match := _DNI.fullmatch(doc):
        number, letter = match.group(1).zfill(8), match.group(2)
        return _with_letter(number, letter, number + letter)
    if match := _NIE.fullmatch(doc):
        prefix, digits, letter = match.groups()
        return _with_letter(_NIE_PREFIX[prefix] + digits, letter, doc)
    if _DIGITS_WITHOUT_LETTER.fullmatch(doc):
        raise DocumentError("format")
    if _PASSPORT.fullmatch(doc):
        return doc
    raise DocumentError("format")


def _with_letter(number: str, letter: str, doc: str) -> str:
    if control_letter(number) != letter:
        raise DocumentError("letter")
    return doc


def document_kind(normalised: str) -> str:
    """"dni" | "nie" | "passport" for a document that passed check_document."""
    if _NIE.fullmatch(normalised):
        return "nie"
    if re.fullmatch(r"\d{8}[A-Z]", normalised):
        return "dni"
    return "passport"


def last_four(normalised: str) -> str:
    """Last 4 characters: a lookup verifier that never reveals the document."""
    return normalised[-4:]
