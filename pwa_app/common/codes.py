"""Human-typable booking/tracking codes in Crockford base32.

Crockford's alphabet has no I, L, O or U, so a code read aloud or copied
from paper survives the usual confusions (O/0, I/L/1).
"""

import re
import secrets
import string

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MIN_LENGTH = 6
MAX_LENGTH = 16
GROUP = 5

_SEPARATORS = re.compile(r"[\s\-]+")
# ASCII-only upper-casing (str.upper() turns "ß" into "SS", which is in the
# alphabet), then the Crockford confusables: O -> 0, I and L -> 1.
_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
_CONFUSABLES = str.maketrans("OIL", "011")
_VALID = re.compile(f"[{ALPHABET}]{{{MIN_LENGTH},{MAX_LENGTH}}}")


def new_code(length: int = 10) -> str:
    """Random code from ``secrets``.

    10 characters = 50 bits. Enough because a code is never accepted on its
    own: lookups also require a verifier (the document's last four), so a
    guessed code alone opens nothing.
    """
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise ValueError(f"length must be {MIN_LENGTH}-{MAX_LENGTH}")
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize_code(raw: str) -> str:
    """Canonical code from user input; ValueError if it cannot be one."""
    code = _SEPARATORS.sub("", raw or "").translate(_UPPER).translate(_CONFUSABLES)
    if not _VALID.fullmatch(code):
        raise ValueError("invalid code")
    return code


def format_code(code: str) -> str:
    """Display form, groups of 5: "ABCDE-FGHJK". Idempotent."""
    code = normalize_code(code)
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))
