"""What a citizen types when booking (name, document, phone, e-mail, language), checked field by field:
every problem at once, each with its message code."""

import re
from dataclasses import dataclass, field

from pwa_app.common.documents import DocumentError, check_document
from pwa_app.common.text import EMAIL_MAX, EMAIL_RE, NAME_MAX, PHONE_RE, UNSAFE_RE


@dataclass
class Details:
    name: str = ""
    document: str = ""
    phone: str = ""
    email: str = ""
    consent: bool = False
    lang: str = "es"
    errors: dict[str, str] = field(default_factory=dict)


def clean_name(raw) -> tuple[str, str | None]:
    """A person's name with its spaces tidied, and its problem's message code (None when fine)."""
    name = " ".join(str(raw or "").split())
    if not name:
        return name, "required"
    if len(name) > NAME_MAX:
        return name, "too_long"
    return name, "chars" if UNSAFE_RE.search(name) else None


def clean_details(raw: dict, needs_document: bool, needs_email: bool = False) -> Details:
    """Normalise and check what the citizen typed; `errors` lists every problem at once."""
    d = Details(lang=str(raw.get("lang") or "es")[:5])
    d.name, problem = clean_name(raw.get("name"))
    if problem:
        d.errors["name"] = problem
    document = str(raw.get("document") or "")
    if needs_document or document.strip():
        try:
            d.document = check_document(document)
        except DocumentError as exc:
            d.errors["document"] = exc.form_code
    d.phone = re.sub(r"[\s().-]", "", str(raw.get("phone") or ""))
    if d.phone and not PHONE_RE.match(d.phone):
        d.errors["phone"] = "phone"
    elif not d.phone and not needs_document and "document" not in d.errors and not d.document:
        d.errors["phone"] = "phone_for_lookup"  # the verifier must come from somewhere
    d.email = str(raw.get("email") or "").strip()
    if d.email and (len(d.email) > EMAIL_MAX or not EMAIL_RE.match(d.email)):
        d.errors["email"] = "email"
    elif needs_email and not d.email:
        d.errors["email"] = "email_required"  # the confirmation link goes there
    d.consent = raw.get("consent") in (True, "true", "on", "1", 1)
    if not d.consent:
        d.errors["consent"] = "consent"
    return d
