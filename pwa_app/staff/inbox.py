"""The staff inbox of service requests: the list a department works through, one request's detail,
assignment to a colleague, status changes and what the Open311 feed may publish."""

from datetime import datetime

from sqlmodel import Session, select

from pwa_app.common.i18n import local
from pwa_app.common.times import utcnow
from pwa_app.models import Department, RequestAssignment, RequestType, ServiceRequest, StaffUser
from pwa_app.service_requests import views, workflow
from pwa_app.service_requests import rules
from pwa_app.staff import audit
from pwa_app.staff.permissions import Forbidden, StaffError, Viewer, require


# --- the requests inbox ---------------------------------------------------------------------------------------


def _may_see_request(viewer: Viewer, req: ServiceRequest) -> bool:
    return viewer.is_admin or (viewer.department_id is not None and req.department_id == viewer.department_id)


def inbox(session: Session, viewer: Viewer, show: str = "open", department_id: int | None = None,
          now: datetime | None = None) -> list[dict]:
    """The department's requests: overdue first, then by due date. `show`: open | closed | all."""
    require(viewer, "requests")
    query = select(ServiceRequest)
    if not viewer.is_admin:
        query = query.where(ServiceRequest.department_id == (viewer.department_id or -1))
    elif department_id:
        query = query.where(ServiceRequest.department_id == department_id)
    if show == "open":
        query = query.where(ServiceRequest.status.in_(sorted(rules.OPEN)))
    elif show == "closed":
        query = query.where(ServiceRequest.status.in_(sorted(rules.CLOSED)))
    rows = session.exec(query.order_by(ServiceRequest.due_date, ServiceRequest.submitted_at).limit(500)).all()
    types = {t.id: t.name for t in session.exec(select(RequestType))}
    departments = {d.id: d.name for d in session.exec(select(Department))}
    assignees = dict(session.exec(select(RequestAssignment.request_id, StaffUser.name)
                                  .join(StaffUser, StaffUser.id == RequestAssignment.staff_id)
                                  .where(RequestAssignment.request_id.in_([r.id for r in rows] or [0]))).all())
    items = [{
        "id": r.id, "code": rules.format_code(r.code), "type": types.get(r.type_id, ""),
        "department": departments.get(r.department_id, ""), "status": r.status,
        "submitted": local(r.submitted_at).strftime("%d/%m/%Y %H:%M"), "due": r.due_date.strftime("%d/%m/%Y"),
        "due_iso": r.due_date.isoformat(), "overdue": rules.is_overdue(r, now),
        "summary": r.description[:140], "assignee": assignees.get(r.id, ""),
    } for r in rows]
    items.sort(key=lambda i: (not i["overdue"], i["due_iso"]))
    return items


def request_for(session: Session, viewer: Viewer, request_id: int) -> ServiceRequest:
    require(viewer, "requests")
    req = session.get(ServiceRequest, request_id)
    if req is None or not _may_see_request(viewer, req):
        raise Forbidden()
    return req


def request_detail(session: Session, viewer: Viewer, request_id: int, now: datetime | None = None) -> dict:
    """The tracking view (as the citizen sees it, in Spanish) plus what only the department sees."""
    req = request_for(session, viewer, request_id)
    view = views.request_view(session, req, "es", now)
    assigned = session.get(RequestAssignment, req.id)
    person = session.get(StaffUser, assigned.staff_id) if assigned else None
    view.update(id=req.id, name=req.name, email=req.email, phone=req.phone, document=req.document,
                public_description=req.public_description, public_address=req.public_address,
                assignee=person.name if person else "", assignee_id=person.id if person else 0,
                next_statuses=sorted(rules.TRANSITIONS[req.status] - {"assigned"}))
    return view


def request_attachment(session: Session, viewer: Viewer, request_id: int, position: int):
    """A file of a request the viewer's department handles (Forbidden for any other); None when there is none."""
    return views.attachment(session, request_for(session, viewer, request_id), position)


def colleagues(session: Session, viewer: Viewer, request_id: int) -> list[StaffUser]:
    """Who may be given a request: active staff of its department (administrators too)."""
    req = request_for(session, viewer, request_id)
    rows = session.exec(select(StaffUser).where(StaffUser.active == True).order_by(StaffUser.name)).all()
    return [u for u in rows if u.role in ("admin", "manager") and (u.role == "admin" or u.department_id == req.department_id)]


def assign_request(session: Session, viewer: Viewer, request_id: int, staff_id: int,
                   now: datetime | None = None) -> ServiceRequest:
    """Give a request to a member of the department (internal). A request still "received" becomes "assigned":
    the citizen sees that the department has it, never who."""
    req = request_for(session, viewer, request_id)
    if staff_id not in {u.id for u in colleagues(session, viewer, request_id)}:
        raise StaffError({"assignee": "not_found"})
    row = session.get(RequestAssignment, req.id) or RequestAssignment(request_id=req.id, staff_id=staff_id)
    row.staff_id, row.assigned_at, row.assigned_by = staff_id, now or utcnow(), viewer.id
    session.add(row)
    if req.status == "received":
        workflow.change_status(session, req, "assigned", now=now)
    session.flush()
    audit.audit(session, viewer, "request.assign", f"request:{req.id}", staff_id=staff_id)
    return req


def change_request_status(session: Session, viewer: Viewer, request_id: int, status: str, comment: str = "",
                          department: str | None = None, now: datetime | None = None) -> ServiceRequest:
    """Move a request along its workflow with a public comment, or hand it to another department."""
    req = request_for(session, viewer, request_id)
    before = req.status
    try:
        workflow.change_status(session, req, status, department=department or None, comment=comment, now=now)
    except rules.ServiceRequestError as exc:
        raise StaffError(exc.errors) from None
    if department:
        row = session.get(RequestAssignment, req.id)
        if row:
            session.delete(row)  # the other department decides who handles it
    session.flush()
    audit.audit(session, viewer, "request.status", f"request:{req.id}", before=before, status=status,
               department=department or "", comment_chars=len(comment or ""))
    return req


def publish_request_text(session: Session, viewer: Viewer, request_id: int, description: str,
                         address: str = "") -> ServiceRequest:
    """Approve (or, with empty texts, take back) what the Open311 feed shows of a public request."""
    req = request_for(session, viewer, request_id)
    if not session.get(RequestType, req.type_id).public:
        raise StaffError({"public_description": "not_public"})
    try:
        workflow.publish_text(session, req, description, address)
    except rules.ServiceRequestError as exc:
        raise StaffError(exc.errors) from None
    audit.audit(session, viewer, "request.publish" if req.public_description else "request.unpublish",
               f"request:{req.id}", description_chars=len(req.public_description),
               address=bool(req.public_address))
    return req


def departments(session: Session) -> list[Department]:
    return list(session.exec(select(Department).order_by(Department.position)))
