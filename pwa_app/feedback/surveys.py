"""Citizen feedback (issue 9): the 30-second survey after an attended appointment, the suggestion box, and the
figures staff read from them. Plain Python, no Reflex import.

- One survey answer per appointment: the citizen's device proves it holds the appointment (booking code +
  verifier, like every other appointment call), but the answer keeps only the appointment's procedure, office
  and day — never the person. A keyed hash of the code (`appointment_key`, unique) enforces "one answer".
- The suggestion box is open to anyone, optionally anonymous. One that asks for an answer becomes a tracked
  request of type "queja-sugerencia" (intake.submit), whose code the citizen keeps.
- Texts are plain text: control characters dropped, HTML tags refused, more than 2000 characters or more than
  two links refused as spam; pages show them escaped (React does).
"""

import re
from collections import Counter, defaultdict
from datetime import datetime, timezone

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from pwa_app.appointments import access, fairness
from pwa_app.common.errors import DomainError
from pwa_app.common.i18n import local, pick_lang
from pwa_app.common.messages import N_
from pwa_app.common.text import HTML_RE, UNSAFE_RE, plain_text
from pwa_app.models import Office, Procedure, ServiceRequest, Suggestion, SurveyAnswer
from pwa_app.service_requests import intake, rules
from pwa_app.staff import reports
from pwa_app.staff.permissions import Viewer
from pwa_app.staff.reports import office_scope, period

UTC = timezone.utc
TEXT_MAX = 2000
MAX_LINKS = 2
RATINGS = range(1, 6)
WAITING = ("short", "ok", "long")
SUGGESTION_TYPE = "queja-sugerencia"
LINK_RE = re.compile(r"(https?://|www\.)", re.I)

# Messages for the codes below (the API answers them translated; the pages show the same ones offline).
FEEDBACK_ERRORS: dict[str, str] = {
    "rating": N_("Choose how satisfied you are, from 1 to 5."),
    "waiting": N_("Choose how the waiting time felt."),
    "text_too_long": N_("Please keep it under 2000 characters."),
    "spam": N_("Please write your message without links."),
    "survey_done": N_("This appointment's survey has already been answered. Thank you!"),
    "survey_not_open": N_("The survey opens once the appointment has been attended."),
    "suggestion_required": N_("Please write your suggestion."),
}


class FeedbackError(DomainError):
    """A survey answer or a suggestion that cannot be taken."""


def clean_text(raw, limit: int = TEXT_MAX) -> tuple[str, str | None]:
    """Plain text: newlines kept, other control characters dropped. (text, error code or None)."""
    text = plain_text(raw)
    if len(text) > limit:
        return text, "text_too_long"
    if HTML_RE.search(text):
        return text, "no_html"
    if len(LINK_RE.findall(text)) > MAX_LINKS:
        return text, "spam"
    return text, None


def appointment_key(code: str) -> str:
    return fairness.keyed("survey", code)


def _rating(raw) -> int | None:
    if isinstance(raw, bool):
        return None
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if value in RATINGS and str(raw).strip() == str(value) else None


def _yes_no(raw) -> bool | None:
    if raw in (True, "yes", "true", "1", 1):
        return True
    if raw in (False, "no", "false", "0", 0):
        return False
    return None


def clean_survey(raw: dict) -> tuple[dict, dict[str, str]]:
    errors: dict[str, str] = {}
    rating = _rating(raw.get("rating"))
    if rating is None:
        errors["rating"] = "rating"
    waiting = str(raw.get("waiting") or "")
    if waiting not in (*WAITING, ""):
        errors["waiting"] = "waiting"
    checklist_ok = _yes_no(raw.get("checklist_ok"))
    missing, problem = clean_text(raw.get("missing"))
    if problem:
        errors["missing"] = problem
    comment, problem = clean_text(raw.get("comment"))
    if problem:
        errors["comment"] = problem
    if checklist_ok is not False:
        missing = ""  # only said when the checklist was not right
    return {"rating": rating, "waiting": waiting, "checklist_ok": checklist_ok, "missing": missing,
            "comment": comment, "lang": pick_lang(str(raw.get("lang") or "es")[:5])}, errors


def answer_survey(session: Session, raw: dict, now: datetime | None = None) -> SurveyAnswer:
    """Store the survey of an attended appointment (the caller commits). Raises FeedbackError."""
    clean, errors = clean_survey(raw)
    appt = access.open_appointment(session, str(raw.get("appointment") or ""), str(raw.get("verifier") or ""))
    if appt is None:
        errors = {"appointment": "not_found", **errors}
    elif appt.status != "done":
        errors = {"appointment": "survey_not_open", **errors}
    if errors:
        raise FeedbackError(errors)
    key = appointment_key(appt.code)
    if session.exec(select(SurveyAnswer.id).where(SurveyAnswer.appointment_key == key)).first():
        raise FeedbackError({"appointment": "survey_done"})
    answer = SurveyAnswer(appointment_key=key, procedure_id=appt.procedure_id, office_id=appt.office_id,
                          day=local(appt.starts_at).date(), created_at=now or datetime.now(UTC), **clean)
    try:
        with session.begin_nested():
            session.add(answer)
            session.flush()
    except IntegrityError:  # the same appointment answered at the same moment from two devices
        raise FeedbackError({"appointment": "survey_done"}) from None
    return answer


def submit_suggestion(session: Session, raw: dict, now: datetime | None = None) -> tuple[Suggestion,
                                                                                         ServiceRequest | None]:
    """A note in the suggestion box (the caller commits). Asking for an answer makes it a tracked request.
    Raises FeedbackError (or rules.ServiceRequestError's codes, inside a FeedbackError)."""
    text, problem = clean_text(raw.get("text"))
    anonymous = _yes_no(raw.get("anonymous")) is True
    wants_answer = _yes_no(raw.get("wants_answer")) is True
    lang = pick_lang(str(raw.get("lang") or "es")[:5])
    errors: dict[str, str] = {}
    if problem or not text:
        errors["text"] = problem or "suggestion_required"
    name = "" if anonymous else " ".join(str(raw.get("name") or "").split())
    if len(name) > 100:
        errors["name"] = "too_long"
    elif UNSAFE_RE.search(name):
        errors["name"] = "chars"
    request = None
    if wants_answer and not errors:
        contact = {} if anonymous else {"email": raw.get("email") or "", "phone": raw.get("phone") or ""}
        try:
            request = intake.submit(session, {"type": SUGGESTION_TYPE, "description": text, "name": name,
                                                "consent": raw.get("consent"), "lang": lang, **contact}, now=now)
        except rules.ServiceRequestError as exc:
            errors.update({("text" if f == "description" else f): c for f, c in exc.errors.items()})
    elif wants_answer:  # say everything at once: the request's own checks too
        if raw.get("consent") not in (True, "true", "on", "1", 1):
            errors["consent"] = "consent_request"
    if errors:
        raise FeedbackError(errors)
    note = Suggestion(text=text, name=name, request_id=request.id if request else None, lang=lang,
                      created_at=now or datetime.now(UTC))
    session.add(note)
    session.flush()
    return note, request


# --- staff figures ----------------------------------------------------------------------------------------------


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _group(answers: list[SurveyAnswer], key, names: dict) -> list[dict]:
    groups: dict = defaultdict(list)
    for a in answers:
        groups[key(a)].append(a)
    rows = []
    for k, items in groups.items():
        ratings = [a.rating for a in items]
        known = [a for a in items if a.checklist_ok is not None]
        waits = Counter(a.waiting for a in items if a.waiting)
        rows.append({
            "key": k, "name": names.get(k, str(k)), "answers": len(items),
            "average": _rounded(sum(ratings) / len(ratings)),
            "satisfied_rate": _rounded(100 * sum(r >= 4 for r in ratings) / len(ratings)),
            "checklist_ok_rate": _rounded(100 * sum(a.checklist_ok for a in known) / len(known)) if known else None,
            "long_wait_rate": _rounded(100 * waits["long"] / sum(waits.values())) if waits else None,
            "ratings": [ratings.count(n) for n in RATINGS],
        })
    return rows


def answers_in(session: Session, viewer: Viewer, first, last, office_id: int | None = None) -> list[SurveyAnswer]:
    first, last = period(first, last)
    offices = office_scope(session, viewer, office_id)
    if not offices:
        return []
    return list(session.exec(select(SurveyAnswer).where(
        SurveyAnswer.day >= first, SurveyAnswer.day <= last, SurveyAnswer.office_id.in_(offices),  # type: ignore
    ).order_by(SurveyAnswer.day, SurveyAnswer.id)))


def summary(session: Session, viewer: Viewer, first, last, office_id: int | None = None,
            comments: int = 50) -> dict:
    """Satisfaction for a period (appointment days) in the viewer's offices: overall, per office, per procedure,
    per month; the checklist items citizens said were missing; recent comments; and (administrators, whose scope
    is the whole town hall) recent notes from the suggestion box."""
    answers = answers_in(session, viewer, first, last, office_id)
    offices = {o.id: o.name for o in session.exec(select(Office))}
    procedures = {p.id: p.name for p in session.exec(select(Procedure))}
    overall = _group(answers, lambda a: "all", {"all": ""})
    missing: dict = defaultdict(Counter)
    for a in answers:
        if a.checklist_ok is False and a.missing:
            missing[a.procedure_id][a.missing] += 1
    missing_rows = [{"procedure": procedures.get(pid, ""), "text": text, "count": n}
                    for pid, texts in missing.items() for text, n in texts.most_common()]
    missing_rows.sort(key=lambda r: (-r["count"], r["procedure"], r["text"]))
    recent = sorted((a for a in answers if a.comment), key=lambda a: (a.created_at, a.id), reverse=True)[:comments]
    result = {
        "answers": len(answers),
        "overall": overall[0] if overall else None,
        "by_office": sorted(_group(answers, lambda a: a.office_id, offices), key=lambda r: r["name"]),
        "by_procedure": sorted(_group(answers, lambda a: a.procedure_id, procedures), key=lambda r: r["name"]),
        "by_month": sorted(_group(answers, lambda a: a.day.strftime("%Y-%m"), {}), key=lambda r: r["key"]),
        "missing": missing_rows,
        "comments": [{"day": a.day.isoformat(), "office": offices.get(a.office_id, ""),
                      "procedure": procedures.get(a.procedure_id, ""), "rating": a.rating, "text": a.comment}
                     for a in recent],
        "suggestions": [],
    }
    if viewer.office_ids is None:
        notes = session.exec(select(Suggestion).order_by(Suggestion.created_at.desc(), Suggestion.id.desc())  # type: ignore
                             .limit(comments)).all()
        codes = {r.id: rules.format_code(r.code) for r in session.exec(select(ServiceRequest).where(
            ServiceRequest.id.in_([n.request_id for n in notes if n.request_id])))}  # type: ignore
        result["suggestions"] = [{"at": local(n.created_at).strftime("%Y-%m-%d %H:%M"), "name": n.name,
                                  "text": n.text, "request": codes.get(n.request_id, "")} for n in notes]
    return result


CSV_HEADER = ["fecha", "oficina", "tramite", "satisfaccion", "lista_correcta", "faltaba", "espera", "comentario"]


def csv_rows(session: Session, viewer: Viewer, first, last, office_id: int | None = None) -> list[list]:
    """Every answer of the period, anonymous: day, office, procedure and what was answered."""
    offices = {o.id: o.name for o in session.exec(select(Office))}
    procedures = {p.id: p.name for p in session.exec(select(Procedure))}
    rows: list[list] = []
    yes_no = {True: "si", False: "no", None: ""}
    waits = {"short": "corta", "ok": "normal", "long": "larga", "": ""}
    for a in answers_in(session, viewer, first, last, office_id):
        rows.append([a.day.isoformat(), offices.get(a.office_id, ""), procedures.get(a.procedure_id, ""), a.rating,
                     yes_no[a.checklist_ok], a.missing, waits.get(a.waiting, ""), a.comment])
    return rows


def to_csv(rows: list[list]) -> str:
    return reports.spreadsheet_csv(CSV_HEADER, rows)

