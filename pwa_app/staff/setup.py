"""Setting up what citizens can book: offices, procedures and their checklists, and their texts in other
languages. Catalogue edits clear the citizen API's catalogue cache (`published.changed`).

Every function of the staff package takes the `Viewer` (pwa_app.staff.auth) and checks its permission and office
scope itself (`permissions.require`), so no caller can forget; errors are `StaffError` with a code per field;
every write records an AuditEvent. The caller commits. Plain Python, no Reflex."""

from datetime import UTC

from sqlalchemy import func
from sqlmodel import Session, select

from pwa_app.catalogue import content, published
from pwa_app.models import Area, Office, Procedure, ProcedureOffice, Requirement
from pwa_app.staff import audit
from pwa_app.staff.forms import SLUG_RE, is_checked, int_field, text_field
from pwa_app.staff.permissions import Forbidden, StaffError, Viewer, require


UTC = UTC


# --- offices --------------------------------------------------------------------------------------------------

OFFICE_FIELDS = {"name": 200, "address": 200, "opening_hours": 300, "accessibility": 600, "phone": 40, "map_url": 300}


def offices(session: Session, viewer: Viewer) -> list[Office]:
    """The offices this member of staff works for (all of them for administrators)."""
    rows = session.exec(select(Office).order_by(Office.id)).all()
    return [o for o in rows if viewer.can_office(o.id)]


def office_of(session: Session, viewer: Viewer, office_id: int | None) -> Office:
    """An office the viewer works for: the one asked for, else their first."""
    mine = offices(session, viewer)
    if not mine:
        raise StaffError({"office": "no_office"})
    if office_id is None:
        return mine[0]
    found = next((o for o in mine if o.id == office_id), None)
    if found is None:
        raise Forbidden()
    return found


def save_office(session: Session, viewer: Viewer, office_id: int | None, data: dict) -> Office:
    """Create an office (administrators) or edit one (its managers too)."""
    if office_id is None:
        require(viewer, "setup_town")
        office = Office(slug="", name="", address="", opening_hours="")
    else:
        require(viewer, "setup_office", office_id)
        office = session.get(Office, office_id)
        if office is None:
            raise StaffError({"office": "not_found"})
    errors: dict[str, str] = {}
    values = {f: text_field(data.get(f, getattr(office, f)), f, errors, required=f in ("name", "address", "opening_hours"),
                       limit=limit, multiline=f == "accessibility") for f, limit in OFFICE_FIELDS.items()}
    if office_id is None:
        slug = str(data.get("slug") or "").strip().lower()
        if not SLUG_RE.match(slug) or len(slug) > 80:
            errors["slug"] = "slug"
        elif session.exec(select(Office).where(Office.slug == slug)).first():
            errors["slug"] = "exists"
        office.slug = slug
    if errors:
        raise StaffError(errors)
    before = content.snapshot(office)
    for f, value in values.items():
        setattr(office, f, value)
    session.add(office)
    session.flush()
    content.mark_stale(session, office, before)
    audit.audit(session, viewer, "office.create" if office_id is None else "office.update", f"office:{office.id}",
               **values)
    published.changed()
    return office


# --- procedures and their checklists -------------------------------------------------------------------------

PROCEDURE_TEXT = {"name": 200, "summary": 300, "description": 4000, "who_can_apply": 1000, "fee": 200,
                  "online_url": 300, "keywords": 500}


def procedures(session: Session) -> list[Procedure]:
    return list(session.exec(select(Procedure).order_by(Procedure.name)))


def areas(session: Session) -> list[Area]:
    return list(session.exec(select(Area).order_by(Area.position)))


def procedure_office_ids(session: Session, procedure_id: int) -> list[int]:
    return sorted(session.exec(select(ProcedureOffice.office_id).where(ProcedureOffice.procedure_id == procedure_id)))


def save_procedure(session: Session, viewer: Viewer, procedure_id: int | None, data: dict) -> Procedure:
    """Create or edit a procedure (town-wide: administrators), including which offices handle it."""
    require(viewer, "setup_town")
    proc = session.get(Procedure, procedure_id) if procedure_id else Procedure(
        slug="", area_id=0, name="", summary="", description="", who_can_apply="")
    if proc is None:
        raise StaffError({"procedure": "not_found"})
    errors: dict[str, str] = {}
    values = {f: text_field(data.get(f, getattr(proc, f)), f, errors, required=f in ("name", "summary"), limit=limit,
                       multiline=f in ("description", "who_can_apply")) for f, limit in PROCEDURE_TEXT.items()}
    duration = int_field(data.get("duration_minutes", proc.duration_minutes), "duration_minutes", errors, 1, 480)
    area_id = int_field(data.get("area_id", proc.area_id), "area_id", errors, 1, 10**9)
    if "area_id" not in errors and session.get(Area, area_id) is None:
        errors["area_id"] = "required"
    if procedure_id is None:
        slug = str(data.get("slug") or "").strip().lower()
        if not SLUG_RE.match(slug) or len(slug) > 80:
            errors["slug"] = "slug"
        elif session.exec(select(Procedure).where(Procedure.slug == slug)).first():
            errors["slug"] = "exists"
        proc.slug = slug
    office_ids = None
    if "office_ids" in data:
        office_ids = {int(o) for o in data["office_ids"]}
        known = set(session.exec(select(Office.id)))
        if not office_ids <= known:
            errors["office_ids"] = "not_found"
    if errors:
        raise StaffError(errors)
    before = content.snapshot(proc)
    for f, value in values.items():
        setattr(proc, f, value)
    proc.duration_minutes, proc.area_id = duration, area_id
    for flag in ("needs_appointment", "requires_document"):
        if flag in data:
            setattr(proc, flag, is_checked(data[flag]))
    session.add(proc)
    session.flush()
    content.mark_stale(session, proc, before)
    if office_ids is not None:
        current = set(procedure_office_ids(session, proc.id))
        for gone in current - office_ids:
            session.delete(session.get(ProcedureOffice, (proc.id, gone)))
        session.add_all(ProcedureOffice(procedure_id=proc.id, office_id=o) for o in office_ids - current)
        session.flush()
    audit.audit(session, viewer, "procedure.create" if procedure_id is None else "procedure.update",
               f"procedure:{proc.id}", duration_minutes=duration, office_ids=sorted(office_ids or []),
               **{k: v for k, v in values.items() if k in ("name", "fee")})
    published.changed()
    return proc


def procedures_at(session: Session, office_id: int) -> list[Procedure]:
    """The procedures an office handles (for walk-in tickets)."""
    return list(session.exec(select(Procedure).join(ProcedureOffice, ProcedureOffice.procedure_id == Procedure.id)
                             .where(ProcedureOffice.office_id == office_id).order_by(Procedure.name)))


def requirements(session: Session, procedure_id: int) -> list[Requirement]:
    return list(session.exec(select(Requirement).where(Requirement.procedure_id == procedure_id)
                             .order_by(Requirement.position, Requirement.id)))


def save_requirement(session: Session, viewer: Viewer, procedure_id: int, requirement_id: int | None,
                     data: dict) -> Requirement:
    require(viewer, "setup_town")
    if session.get(Procedure, procedure_id) is None:
        raise StaffError({"procedure": "not_found"})
    errors: dict[str, str] = {}
    text = text_field(data.get("text"), "text", errors, limit=300)
    note = text_field(data.get("note"), "note", errors, required=False, limit=600)
    if errors:
        raise StaffError(errors)
    if requirement_id is None:
        last = session.exec(select(func.max(Requirement.position))
                            .where(Requirement.procedure_id == procedure_id)).one() or 0
        row = Requirement(procedure_id=procedure_id, position=last + 1, text=text)
    else:
        row = session.get(Requirement, requirement_id)
        if row is None or row.procedure_id != procedure_id:
            raise StaffError({"text": "not_found"})
    before = content.snapshot(row)
    row.text, row.note, row.optional = text, note, is_checked(data.get("optional", row.optional))
    session.add(row)
    session.flush()
    content.mark_stale(session, row, before)
    audit.audit(session, viewer, "requirement.save", f"requirement:{row.id}", procedure_id=procedure_id, text=text)
    published.changed()
    return row


def delete_requirement(session: Session, viewer: Viewer, requirement_id: int) -> None:
    require(viewer, "setup_town")
    row = session.get(Requirement, requirement_id)
    if row is None:
        return
    session.delete(row)
    session.flush()
    audit.audit(session, viewer, "requirement.delete", f"requirement:{requirement_id}",
               procedure_id=row.procedure_id, text=row.text)
    published.changed()


def move_requirement(session: Session, viewer: Viewer, requirement_id: int, delta: int) -> None:
    """Move a checklist item up (-1) or down (+1)."""
    require(viewer, "setup_town")
    row = session.get(Requirement, requirement_id)
    if row is None:
        return
    items = requirements(session, row.procedure_id)
    i = next(i for i, r in enumerate(items) if r.id == row.id)
    j = max(0, min(len(items) - 1, i + delta))
    items.insert(j, items.pop(i))
    for position, item in enumerate(items, 1):
        item.position = position
        session.add(item)
    session.flush()
    audit.audit(session, viewer, "requirement.move", f"requirement:{requirement_id}", delta=delta)
    published.changed()


# --- content in other languages --------------------------------------------------------------------------------


def content_row(session: Session, viewer: Viewer, table: str, row_id: int):
    """A translatable row (procedure, requirement, office, area, closure, department, request type)."""
    require(viewer, "setup_town")
    obj = session.get(content.MODELS[table], row_id) if table in content.MODELS else None
    if obj is None:
        raise StaffError({"form": "not_found"})
    return obj


def save_translations(session: Session, viewer: Viewer, table: str, row_id: int, texts: dict[tuple[str, str], str],
                      confirmed: set[tuple[str, str]] = frozenset()) -> dict:
    """Save the other languages of one row's texts, side by side with the Spanish; see content.apply."""
    obj = content_row(session, viewer, table, row_id)
    try:
        counts = content.apply(session, obj, texts, confirmed)
    except content.ContentError as exc:
        raise StaffError(exc.errors) from None
    session.flush()
    audit.audit(session, viewer, "translation.save", f"{table}:{row_id}", **counts)
    published.changed()
    return dict(counts)


def translation_report(session: Session, viewer: Viewer) -> list[dict]:
    require(viewer, "setup_town")
    return content.report(session)


def export_translations(session: Session, viewer: Viewer, lang: str, ip: str = "") -> bytes:
    require(viewer, "setup_town")
    try:
        data = content.export_po(session, lang)
    except content.ContentError as exc:
        raise StaffError(exc.errors) from None
    audit.audit(session, viewer, "translation.export", f"lang:{lang}", ip=ip, size=len(data))
    return data


def import_translations(session: Session, viewer: Viewer, data: bytes, ip: str = "") -> dict:
    """Read an edited .po file back (all or nothing); the counts say what it changed."""
    require(viewer, "setup_town")
    try:
        counts = content.import_po(session, data)
    except content.ContentError as exc:
        raise StaffError(exc.errors) from None
    session.flush()
    audit.audit(session, viewer, "translation.import", f"lang:{counts['lang']}", ip=ip, **counts)
    published.changed()
    return counts
