"""The forms' rules shipped to the phones (components/rules.py through assets/check.js) say what the server says:
the same inputs, run through the server's own checks and through the data module's `check` in Node."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from components.rules import rules
from pwa_app.appointments import details, visits
from pwa_app.feedback import surveys
from pwa_app.models import RequestType
from pwa_app.service_requests import intake

ROOT = Path(__file__).resolve().parents[2]

BOOKINGS = [
    {"name": "Ana López", "document": "12345678Z", "phone": "", "email": "", "consent": True},
    {"name": "Ana", "document": "12345678A", "consent": True},  # wrong letter
    {"name": "Ana", "document": "x-1234567-l", "consent": True},  # NIE, separators, lower case: right
    {"name": "Ana", "document": "X1234567A", "consent": True},
    {"name": "Ana", "document": "12345678", "consent": True},  # digits without the letter
    {"name": "Ana", "document": "AB123456", "consent": True},  # a passport
    {"name": "Ana", "document": "ABCDEFGH", "consent": True},
    {"name": "Ana", "document": "1" * 21, "consent": True},
    {"name": "Ana", "document": "12345678Z!", "consent": True},
    {"name": "<b>", "document": "", "phone": "612 345 678", "email": "a@b", "consent": False},
    {"name": "x" * 101, "document": "", "phone": "", "email": "ana@example.com", "consent": True},
    {"name": "", "document": "", "phone": "12", "email": "", "consent": True},
]
REQUEST_TYPES = [RequestType(allows_location=True, needs_location=True, needs_contact=True),
                 RequestType(allows_location=True)]
REQUESTS = [
    {"description": "", "address": "", "lat": None, "name": "", "email": "", "phone": "", "consent": True},
    {"description": "Hole <script>", "address": "Calle Mayor 1", "lat": None, "name": "Ana", "email": "a@b.es"},
    {"description": "x" * 4001, "address": "", "lat": 40.1, "lon": -3.7, "name": "Ana", "email": "", "phone": "612345678"},
    {"description": "Farola", "address": "{x}", "lat": None, "name": "Ana <", "email": "nope", "phone": "+34 612"},
]
SURVEYS = [{"rating": "", "missing": "", "comment": ""}, {"rating": "6", "missing": "<i>x</i>", "comment": "ok"},
           {"rating": "4", "missing": "", "comment": "see http://a http://b www.c"},
           {"rating": "5", "missing": "y" * 2001, "comment": ""}]


def js_check(cases: list[tuple[str, dict, dict]], tmp_path: Path) -> list[dict]:
    """The data module's `check` over each (form, values, flags), run by Node on the rules as built."""
    shutil.copy(ROOT / "assets" / "check.js", tmp_path / "check.mjs")
    (tmp_path / "run.mjs").write_text(
        "import { checker } from './check.mjs';\n"
        f"const check = checker({json.dumps(rules())});\n"
        f"console.log(JSON.stringify({json.dumps(cases)}.map(([f, v, g]) => check(f, v, g))));\n")
    out = subprocess.run(["node", str(tmp_path / "run.mjs")], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


@pytest.mark.skipif(not shutil.which("node"), reason="Node is needed to run the data module's checks")
def test_the_phone_and_the_server_refuse_the_same_things(tmp_path):
    cases, expected = [], []
    for raw in BOOKINGS:
        for needs_document, needs_email in ((True, False), (False, False), (False, True)):
            cases.append(("booking", raw, {"requires_document": needs_document, "high_demand": needs_email}))
            expected.append(details.clean_details(raw, needs_document, needs_email).errors)
    for raw in REQUESTS:
        for rtype in REQUEST_TYPES:
            cases.append(("request", raw, {"needs_location": rtype.needs_location, "needs_contact": rtype.needs_contact}))
            errors = intake.clean_request(rtype, {**raw, "consent": True}).errors
            expected.append({f: c for f, c in errors.items() if f != "consent"})
    for raw in SURVEYS:
        cases.append(("survey", raw, {}))
        expected.append({f: c for f, c in surveys.clean_survey(raw)[1].items() if f in ("rating", "missing", "comment")})
    got = js_check(cases, tmp_path)
    # The request form's consent box is checked on the page; the server's answer for it is tested apart.
    got = [{f: c for f, c in g.items() if not (form == "request" and f == "consent")} for g, (form, _, _) in zip(got, cases)]
    assert got == expected


VISITS = [  # the page's flat fields: person n's name_n and document_n, the representative's rep_*
    {"party": 3, "name_2": "", "document_2": "12345678A", "name_3": "Luis <", "document_3": ""},
    {"party": 2, "name_2": "Luis", "document_2": "x-1234567-l", "name_3": "<b>", "document_3": "nope"},
    {"on_behalf": True, "rep_name": "", "rep_email": "", "rep_phone": "12", "rep_consent": False},
    {"on_behalf": True, "rep_name": "Marta", "rep_email": "nope", "rep_phone": "", "rep_consent": True},
    {"on_behalf": True, "rep_name": "Marta", "rep_email": "", "rep_phone": "", "rep_consent": True},
    {"on_behalf": False, "rep_name": "<b>", "rep_email": "nope", "rep_phone": "12"},
]


@pytest.mark.skipif(not shutil.which("node"), reason="Node is needed to run the data module's checks")
def test_the_phone_and_the_server_refuse_the_same_people_and_representatives(tmp_path):
    own = {"name": "Ana López", "document": "12345678Z", "phone": "", "email": "", "consent": True}
    cases, expected = [], []
    for visit in VISITS:
        for requires in (True, False):
            party = visit.get("party", 1)
            flags = {"requires_document": requires, "high_demand": False, "on_behalf": bool(visit.get("on_behalf"))}
            for n in range(2, visits.PARTY_MAX + 1):
                flags |= {f"person_{n}": n <= party, f"document_{n}": n <= party and requires}
            cases.append(("booking", {**own, **visit}, flags))
            people = [{"name": visit[f"name_{n}"], "document": visit[f"document_{n}"]} for n in range(2, party + 1)]
            raw = {**own, **visit, "people": people}
            found = details.clean_details(raw, requires)
            expected.append(visits.problems(found.errors, visits.clean_visit(raw, "p", requires, found.document)))
    assert js_check(cases, tmp_path) == expected
