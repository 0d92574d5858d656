"""A visit: one booking for several people coming together (a family renewing documents: up to CITA_PARTY_MAX,
each with their own name and document) and for several procedures done one after the other at the same office,
possibly booked by someone else for the person (representation, Ley 39/2015 art. 5).

The model, kept small. Every person takes a seat of every procedure's slot: the first procedure at the time
picked, each next one at the moment the one before ends, in that procedure's own slot at the same office (which
must start then). So the visit lasts the sum of the procedures' durations and each procedure's own desks are
counted. Every seat is an appointment row of its own, guarded by the unique (office, procedure, start, seat)
index; the rows point to the visit's first row (`Appointment.visit_of`), whose code opens, moves and cancels them
all (their own codes open nothing). The seats are taken all together or not at all, under the slots' locks; the
per-person limits count each person's own document, the represented person's and never the representative's."""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, select

from pwa_app.appointments import availability, fairness
from pwa_app.appointments.details import clean_name
from pwa_app.appointments.seats import free_seats, lock_slot
from pwa_app.appointments.slots import WEB
from pwa_app.common import codes
from pwa_app.common.documents import DocumentError, check_document
from pwa_app.common.text import EMAIL_MAX, EMAIL_RE, PHONE_RE
from pwa_app.models import Appointment, Procedure, ProcedureOffice
from pwa_app.settings import get_settings

PARTY_MAX = get_settings().party_max  # people in one booking, the booking's own person included
MAX_PROCEDURES = 3  # procedures in one visit
TRUE = (True, "true", "on", "1", 1)
KNOWN = "visit_rows"  # in Session.info: {first row's id: the visit's other rows}, as booked in this session



@dataclass
class Person:
    name: str
    document: str = ""
    key: str = ""  # fairness.person_key of the document


@dataclass
class Plan:
    """What a booking asks besides its own person and procedure: who else comes, what else they do, who books."""

    people: list[Person] = field(default_factory=list)  # person 2, 3...: their fields are name_2, document_2...
    also: list[str] = field(default_factory=list)  # further procedures' slugs, in the order they are done
    representative: tuple[str, str, str] | None = None  # name, e-mail, phone of whoever books for the person
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def seats(self) -> int:
        return 1 + len(self.people)


def clean_visit(raw: dict, procedure_slug: str, requires_document: bool, document: str) -> Plan:
    """The others coming, the further procedures and the representative, checked field by field (`errors`: every
    problem at once); `document` is the booking's own person's, which nobody else may repeat."""
    plan, errors = Plan(), {}
    people = raw.get("people") or []
    people = people if isinstance(people, list) else []
    if len(people) + 1 > PARTY_MAX:
        errors["people"], people = "party_too_big", people[: PARTY_MAX - 1]
    seen = {document} - {""}
    for n, item in enumerate(people, 2):
        item = item if isinstance(item, dict) else {}
        name, problem = clean_name(item.get("name"))
        if problem:
            errors[f"name_{n}"] = problem
        doc = str(item.get("document") or "")
        if requires_document or doc.strip():
            try:
                doc = check_document(doc)
            except DocumentError as exc:
                errors[f"document_{n}"] = exc.form_code
            else:
                if doc in seen:
                    errors[f"document_{n}"] = "same_person"
                seen.add(doc)
        plan.people.append(Person(name, doc if f"document_{n}" not in errors else "", fairness.person_key(doc)))
    also = raw.get("also") or []
    also = [str(s)[:80] for s in also] if isinstance(also, list) else []
    plan.also = [s for n, s in enumerate(also) if s != procedure_slug and s not in also[:n]]
    if len(plan.also) + 1 > MAX_PROCEDURES:
        errors["also"] = "too_many_procedures"
    if raw.get("on_behalf") in TRUE:
        plan.representative = _representative(raw, errors)
    plan.errors = errors
    return plan


def _representative(raw: dict, errors: dict) -> tuple[str, str, str]:
    name, problem = clean_name(raw.get("rep_name"))
    if problem:
        errors["rep_name"] = problem
    email = str(raw.get("rep_email") or "").strip()
    phone = re.sub(r"[\s().-]", "", str(raw.get("rep_phone") or ""))
    if email and (len(email) > EMAIL_MAX or not EMAIL_RE.match(email)):
        errors["rep_email"] = "email"
    if phone and not PHONE_RE.match(phone):
        errors["rep_phone"] = "phone"
    if not email and not phone:
        errors["rep_email"] = "rep_contact"
    if raw.get("rep_consent") not in TRUE:
        errors["rep_consent"] = "rep_consent"
    return name, email, phone


def problems(details_errors: dict, plan: Plan) -> dict[str, str]:
    """Every problem of a booking's fields: a representative's e-mail stands in for the person's (high demand)."""
    errors = dict(details_errors)
    if plan.representative and plan.representative[1] and errors.get("email") == "email_required":
        del errors["email"]
    return errors | plan.errors


def representative_fields(plan: Plan) -> dict[str, str]:
    name, email, phone = plan.representative or ("", "", "")
    return {"representative_name": name, "representative_email": email, "representative_phone": phone}


def procedures_at(session: Session, slugs: list[str], office_id: int) -> list[Procedure] | None:
    """The further procedures, when that office books each of them; else None."""
    if not slugs:
        return []
    found = {p.slug: p for p in session.exec(
        select(Procedure).join(ProcedureOffice, ProcedureOffice.procedure_id == Procedure.id)
        .where(Procedure.slug.in_(slugs), ProcedureOffice.office_id == office_id, Procedure.needs_appointment))}
    return [found[s] for s in slugs] if all(s in found for s in slugs) else None


def legs(procedures: list[Procedure], start: datetime) -> list[tuple[Procedure, datetime]]:
    """Each procedure of a visit with its start: the next one starts when the one before ends."""
    out = []
    for procedure in procedures:
        out.append((procedure, start))
        start += timedelta(minutes=procedure.duration_minutes)
    return out


def limit_problem(session: Session, procedures: list[Procedure], own_key: str, people: list[Person],
                  now: datetime) -> tuple[str, str] | None:
    """(field, message code) of the first person this visit would take over a per-person limit, counting the
    seats it adds; the booking's own person's first procedure was counted under the slot's lock already."""
    for n, key in enumerate([own_key, *(p.key for p in people)], 1):
        added = 1 if n == 1 else 0
        for procedure in procedures[added:] if key else ():
            total, same, most = session.exec(fairness.active_of(procedure, key, now)).one()
            if problem := fairness.over_limit(procedure, total + added, same, most):
                return ("person" if n == 1 else f"document_{n}"), problem
            added += 1
    return None


def take_seats(session: Session, office_id: int, visit: list[tuple[Procedure, datetime]], seats: int, own_seat: int,
               own_rows: list, now: datetime, channel: str = WEB) -> list[tuple[Procedure, datetime, list[int]]] | str:
    """Every seat of the visit besides the booking's own (`own_seat`, taken from `own_rows` under the first slot's
    lock): the others' in the first slot, everyone's in each next one, locked in time order. The message code
    ("taken", "unavailable") when one slot has too few; the caller then writes nothing."""
    taken = []
    for n, (procedure, start) in enumerate(visit):
        if n:
            lock_slot(session, office_id, procedure.id, start)
        pair = availability.pair_by_id(session, procedure.id, office_id)
        frame = availability.frame(session, pair, now) if pair else None
        capacity = frame.capacity.get(start) if frame else None
        if not capacity:
            return "unavailable" if n == 0 else "visit_taken"
        need = seats - 1 if n == 0 else seats
        found = free_seats(session, office_id, procedure.id, start, capacity, now, own_rows if n == 0 else None,
                           count=need, besides=(own_seat,) if n == 0 else (), staff=frame.staff.get(start, 0),
                           channel=channel) if need else []
        if found is None:
            return "party_taken" if n == 0 else "visit_taken"
        taken.append((procedure, start, found))
    return taken


def add_rows(session: Session, first: Appointment, people: list[Person],
             taken: list[tuple[Procedure, datetime, list[int]]]) -> list[Appointment]:
    """The visit's other rows, pointing to its first one (which the caller has flushed)."""
    everyone = [Person(first.name, first.document, first.person_key), *people]
    rows = []
    for n, (procedure, start, seats) in enumerate(taken):
        for person, seat in zip(everyone[1:] if n == 0 else everyone, seats):
            rows.append(Appointment(
                visit_of=first.id, code=codes.new_code(), procedure_id=procedure.id, office_id=first.office_id,
                starts_at=start, seat=seat, status=first.status, confirm_by=first.confirm_by, name=person.name,
                document=person.document, person_key=person.key, lang=first.lang, created_at=first.created_at,
                client_key=first.client_key, channel=first.channel))
    session.add_all(rows)
    session.flush()
    remember(session, first, rows)
    return rows


def remember(session: Session, first: Appointment, rows: list[Appointment]) -> None:
    """The visit's rows as just booked, so that the answer to the booking asks the database nothing more."""
    session.info.setdefault(KNOWN, {})[first.id] = rows


def rows_of(session: Session, first: Appointment) -> list[Appointment]:
    """The visit's other rows (none for a booking of one person and one procedure), in time and seat order."""
    if first.id is None or first.visit_of is not None:
        return []
    if (known := session.info.get(KNOWN, {}).get(first.id)) is not None:
        return known
    return list(session.exec(select(Appointment).where(Appointment.visit_of == first.id)
                             .order_by(Appointment.starts_at, Appointment.id)))


def summary(first: Appointment, others: list[Appointment], durations: dict[int, int]) -> tuple[list[str], list[int],
                                                                                                 int]:
    """The names of the people (in booking order), the procedures (ids, in order) and the visit's length in
    minutes, from its rows; `durations` maps procedure ids to minutes."""
    rows = [first, *others]
    names = [r.name for r in rows if (r.procedure_id, r.starts_at) == (first.procedure_id, first.starts_at)]
    procedures = list(dict.fromkeys(r.procedure_id for r in sorted(rows, key=lambda r: r.starts_at)))
    return names, procedures, sum(durations.get(p, 0) for p in procedures)


def move(session: Session, first: Appointment, others: list[Appointment], office_id: int, start: datetime,
         own_seat: int, now: datetime) -> str | None:
    """Move the visit's other rows with its first one (already given `own_seat` at `start`, under that slot's
    lock): all of them or none. The message code when a slot has too few seats, else None."""
    ordered = sorted([first, *others], key=lambda r: (r.starts_at, r.id))
    procedures = [session.get(Procedure, pid) for pid in dict.fromkeys(r.procedure_id for r in ordered)]
    groups = [[r for r in others if r.procedure_id == p.id] for p in procedures]  # person order: by id
    taken = take_seats(session, office_id, legs(procedures, start), 1 + len(groups[0]), own_seat, None, now)
    if isinstance(taken, str):
        return taken
    for (_, leg_start, seats), rows in zip(taken, groups):
        for row, seat in zip(sorted(rows, key=lambda r: r.id), seats):
            row.office_id, row.starts_at, row.seat = office_id, leg_start, seat
            session.add(row)
    session.flush()
    return None
