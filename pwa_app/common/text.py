"""What people type, checked the same way everywhere: the patterns of the citizen and staff forms (the browser's
checks are built from these too) and the tidying of free text."""

import re
import unicodedata

NAME_MAX = 100
EMAIL_MAX = 254
EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
PHONE_RE = re.compile(r"^\+?[0-9]{9,15}$")
# Characters no name, address or label needs, and that markup or templates would read.
UNSAFE_RE = re.compile(r"[<>{}\\\x00-\x1f]")
HTML_RE = re.compile(r"<\s*/?\s*[A-Za-z!?][^<>]*>")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def plain_text(raw) -> str:
    """Free text as stored: NFC, newlines kept (as \\n), other control characters dropped, trimmed."""
    text = unicodedata.normalize("NFC", str(raw or "")).replace("\r\n", "\n").replace("\r", "\n")
    return CONTROL_RE.sub("", text).strip()
