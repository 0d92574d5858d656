"""The citizen forms' checks as data, built from the server's own patterns and lengths (pwa_app/common/text.py,
documents.py, service_requests/rules.py, feedback/surveys.py), so a rule changes in one place. The PWA plugin writes them to the build
as `public/rules.json`; the data module (assets/offline.js, `check`) applies them on the phone, also offline,
and the server applies the same constants when the write arrives. Error codes are the API's: the pages show them
with the same translated messages (services/messages.py).

A field is {"tidy": what to remove before checking, "upper": upper-case it, "rules": [[kind, code, arg, when]]};
the first broken rule gives the field's code. Kinds: required, max (length), match (a pattern the value must
fit, when given), forbid (a pattern it must not contain), most ([pattern, count]: at most that many matches),
letter (the DNI/NIE control letter). `when`: {"if": flag} / {"if": "!flag"} from the page (the procedure or the
request type), {"unless": field} (another field given instead)."""

import re

from pwa_app.appointments import visits
from pwa_app.common import documents, text
from pwa_app.feedback import surveys
from pwa_app.service_requests import rules as request_rules  # this module's own `rules()` builds the checks

CLEAN_PHONE = r"[\s().\-]"


def _js(pattern: re.Pattern) -> str:
    """A Python pattern as JavaScript reads it (the ones used here share the syntax)."""
    return pattern.pattern


def _text(limit: int, html: re.Pattern) -> list:
    return [["max", "text_too_long", limit], ["forbid", "no_html", _js(html)],
            ["most", "spam", [_js(surveys.LINK_RE), surveys.MAX_LINKS]]]


def _email(code: str = "email") -> list:
    return [["match", code, _js(text.EMAIL_RE)], ["max", code, 254]]


DOCUMENT = {"tidy": documents._SEPARATORS.pattern, "upper": True, "rules": [
    ["max", "document_too_long", documents.MAX_LENGTH],
    ["match", "document_format", f"^{documents._ALNUM.pattern}$"],
    ["letter", "document_letter", {"letters": documents.CONTROL_LETTERS,
                                   "dni": f"^{documents._DNI.pattern}$", "nie": f"^{documents._NIE.pattern}$"}],
    ["forbid", "document_format", f"^{documents._DIGITS_WITHOUT_LETTER.pattern}$"],
    ["match", "document_format",
     f"^(?:{documents._DNI.pattern}|{documents._NIE.pattern}|{documents._PASSPORT.pattern})$"],
]}
PHONE = {"tidy": CLEAN_PHONE, "rules": [["match", "phone", _js(text.PHONE_RE)]]}


def _name(when: dict | None = None) -> list:
    return [["max", "too_long", text.NAME_MAX, when], ["forbid", "chars", _js(text.UNSAFE_RE), when]]


def _visit() -> dict:
    """The booking's other people (person n: flags person_n, and document_n when the procedure needs documents)
    and its representative (flag on_behalf), as appointments/visits.py checks them."""
    fields = {}
    for n in range(2, visits.PARTY_MAX + 1):
        when = {"if": f"person_{n}"}
        fields[f"name_{n}"] = {"rules": [["required", "required", None, when], *_name(when)]}
        fields[f"document_{n}"] = {**DOCUMENT, "rules": [["required", "required", None, {"if": f"document_{n}"}],
                                                         *([*rule, when] for rule in DOCUMENT["rules"])]}
    when = {"if": "on_behalf"}
    return fields | {
        "rep_name": {"rules": [["required", "required", None, when], *_name(when)]},
        "rep_email": {"rules": [["required", "rep_contact", None, {**when, "unless": "rep_phone"}],
                                *([*rule, when] for rule in _email())]},
        "rep_phone": {**PHONE, "rules": [[*rule, when] for rule in PHONE["rules"]]},
        "rep_consent": {"rules": [["required", "rep_consent", None, when]]},
    }


def rules() -> dict:
    """Every citizen form's fields and their rules."""
    return {
        "booking": {
            "name": {"rules": [["required", "required"], *_name()]},
            "document": {**DOCUMENT, "rules": [["required", "required", None, {"if": "requires_document"}],
                                               *DOCUMENT["rules"]]},
            "phone": {**PHONE, "rules": [*PHONE["rules"], ["required", "phone_for_lookup", None,
                                                           {"if": "!requires_document", "unless": "document"}]]},
            "email": {"rules": [*_email(), ["required", "email_required", None,
                                            {"if": "high_demand", "unless": "rep_email"}]]},
            "consent": {"rules": [["required", "consent"]]},
            **_visit(),
        },
        "request": {
            "description": {"rules": [["required", "required"], ["forbid", "no_html", _js(text.HTML_RE)],
                                      ["max", "too_long", request_rules.DESCRIPTION_MAX]]},
            "address": {"rules": [["max", "too_long", request_rules.ADDRESS_MAX], ["forbid", "chars", _js(text.UNSAFE_RE)],
                                  ["required", "location_required", None, {"if": "needs_location", "unless": "lat"}]]},
            "name": {"rules": [*_name(), ["required", "required", None, {"if": "needs_contact"}]]},
            "email": {"rules": [["required", "contact_required", None, {"if": "needs_contact", "unless": "phone"}],
                                *_email()]},
            "phone": PHONE,
            "consent": {"rules": [["required", "consent_request"]]},
        },
        "reply": {"text": {"rules": [["required", "required"], ["max", "too_long", request_rules.DESCRIPTION_MAX]]}},
        "survey": {
            "rating": {"rules": [["match", "rating", "^[1-5]$"], ["required", "rating"]]},
            "missing": {"rules": _text(surveys.TEXT_MAX, text.HTML_RE)},
            "comment": {"rules": _text(surveys.TEXT_MAX, text.HTML_RE)},
        },
        "suggestion": {
            "text": {"rules": [["required", "suggestion_required"], *_text(surveys.TEXT_MAX, text.HTML_RE)]},
            "name": {"rules": _name({"if": "!anonymous"})},
            "email": {"rules": _email()},
            "phone": PHONE,
            "consent": {"rules": [["required", "consent_request", None, {"if": "wants_answer"}]]},
        },
        "lookup": {"code": {"rules": [["required", "required"]]}, "verifier": {"rules": [["required", "required"]]}},
    }
