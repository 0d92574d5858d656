"""Request tracking (seguimiento) in the services: the workflow, working-day due dates, codes, checks of what the
citizen sends, attachments, idempotency and the tracking view. Services take a fixed `now` (see conftest.Clock)."""

import base64
import hashlib
import io
import re
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlmodel import Session, delete, func, select

from pwa_app.common import codes, images
from pwa_app.common.idempotency import KeyReused, run_once
from pwa_app.models import (
    Attachment, Closure, ContentTranslation, Department, IdempotencyRecord, RequestType, ServiceRequest,
    StatusChange,
)
from pwa_app.seed import REQUEST_TYPES, TRANSLATABLE, seed_request_types
from pwa_app.service_requests import __main__, intake, rules, views, workflow
from pwa_app.service_requests.intake import submit
from pwa_app.service_requests.rules import (
    CLOSED, MAX_FILE_BYTES, OPEN, STATUSES, TRANSITIONS, ServiceRequestError, WorkCalendar, due_date_for, is_overdue,
)
from pwa_app.service_requests.views import request_view
from pwa_app.service_requests.workflow import change_status
from tests.unit.conftest import override_settings

STREET, APPLICATION, COMPLAINT = "incidencia-via-publica", "instancia-general", "queja-sugerencia"


def photo(kind: str, size=(8, 8), mode="RGB", **save) -> bytes:
    """A real image, as Pillow writes it."""
    out = io.BytesIO()
    Image.new(mode, size, (200, 40, 40) if mode == "RGB" else 0).save(out, kind, **save)
    return out.getvalue()


# Photos as the store keeps them: re-encoding one changes nothing (images.clean_photo is idempotent on these).
JPEG, PNG, WEBP = (images.clean_photo(photo(k), f"image/{k.lower()}") for k in ("JPEG", "PNG", "WEBP"))
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"0" * 200
GIF = b"GIF89a" + b"\x00" * 200


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def street(**changes) -> dict:
    raw = {"type": STREET, "description": "Bache profundo en la calzada frente al número 12.",
           "address": "Calle Mayor, 12", "lat": 40.61, "lon": -3.91, "consent": True, "lang": "es"}
    return {**raw, **changes}


def application(**changes) -> dict:
    raw = {"type": APPLICATION, "description": "Solicito copia del expediente de la licencia de mi local.",
           "name": "Ana García López", "email": "ana@example.com", "phone": "612 345 678",
           "document": "12345678z", "consent": True, "lang": "es"}
    return {**raw, **changes}


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def rtype(session, slug) -> RequestType:
    return session.exec(select(RequestType).where(RequestType.slug == slug)).one()


@pytest.fixture
def req(session, clock) -> ServiceRequest:
    found = submit(session, street(), now=clock.now)
    session.commit()
    return found


# --- the workflow ---------------------------------------------------------------------------------------------


def test_a_request_starts_received_with_its_type_department(session, clock, req):
    assert req.status == "received" and req.source == "web"
    assert session.get(Department, req.department_id).slug == "vias-publicas"
    (first,) = views.timeline(session, req)
    assert (first.status, first.actor, first.department_id, first.at) == ("received", "department",
                                                                         req.department_id, clock.now)


def test_the_whole_workflow_is_recorded(session, clock, req):
    steps = [("assigned", "La brigada de obras revisará el bache esta semana."),
             ("in_progress", ""),
             ("waiting_citizen", "¿Puede enviarnos una foto del bache?"),
             ("in_progress", "Gracias por la foto."),
             ("resolved", "Bache reparado."),
             ("closed", "")]
    for minutes, (status, comment) in enumerate(steps, 1):
        change_status(session, req, status, comment=comment, now=clock.moved(minutes=minutes).now)
    session.commit()
    history = views.timeline(session, req)
    assert [c.status for c in history] == ["received"] + [s for s, _ in steps]
    assert [c.comment for c in history[1:]] == [c for _, c in steps]
    assert all(c.actor == "department" and c.department_id == req.department_id for c in history)
    assert [c.at for c in history] == sorted(c.at for c in history)
    assert req.status == "closed" and req.closed_at == clock.moved(minutes=6).now


@pytest.mark.parametrize("path, refused", [
    ([], "resolved"),  # nobody has taken it on yet
    ([], "waiting_citizen"),
    ([], "received"),
    (["assigned"], "received"),  # nothing goes back to received
    (["in_progress"], "in_progress"),  # no change is no change
    (["assigned", "resolved"], "rejected"),
    (["rejected"], "in_progress"),  # rejected and closed are final
    (["closed"], "assigned"),
    (["assigned", "resolved", "closed"], "in_progress"),
])
def test_refused_transitions_change_nothing(session, clock, req, path, refused):
    for status in path:
        change_status(session, req, status, comment="Motivo del rechazo." if status == "rejected" else "",
                      now=clock.now)
    session.commit()
    before = (req.status, len(views.timeline(session, req)))
    with pytest.raises(ServiceRequestError) as refusal:
        change_status(session, req, refused, comment="Un comentario.", now=clock.now)
    assert refusal.value.errors == {"status": "transition"}
    session.rollback()
    session.refresh(req)
    assert (req.status, len(views.timeline(session, req))) == before


def test_the_transition_table_is_closed_and_explicit():
    assert set(TRANSITIONS) == set(STATUSES) == OPEN | CLOSED
    assert all(targets <= set(STATUSES) for targets in TRANSITIONS.values())
    assert not any("received" in targets for targets in TRANSITIONS.values())
    assert TRANSITIONS["rejected"] == TRANSITIONS["closed"] == frozenset()
    for status in STATUSES:  # every status can be reached, and every open one can be left
        assert status == "received" or any(status in t for t in TRANSITIONS.values())
        assert status not in OPEN or TRANSITIONS[status]


def test_unknown_status_is_refused(session, clock, req):
    with pytest.raises(ServiceRequestError) as refusal:
        change_status(session, req, "done", now=clock.now)
    assert refusal.value.errors == {"status": "unknown_status"}


@pytest.mark.parametrize("status", ["waiting_citizen", "rejected"])
def test_asking_the_citizen_or_rejecting_needs_a_public_comment(session, clock, req, status):
    change_status(session, req, "assigned", now=clock.now)
    with pytest.raises(ServiceRequestError) as refusal:
        change_status(session, req, status, comment="   ", now=clock.now)
    assert refusal.value.errors == {"comment": "required"}


def test_comments_are_plain_text(session, clock, req):
    with pytest.raises(ServiceRequestError) as refusal:
        change_status(session, req, "assigned", comment="<b>Hola</b>", now=clock.now)
    assert refusal.value.errors == {"comment": "no_html"}


def test_a_request_can_be_handed_to_another_department(session, clock, req):
    change_status(session, req, "assigned", now=clock.now)
    change_status(session, req, "assigned", department="urbanismo", comment="Lo revisa Urbanismo.", now=clock.now)
    assert session.get(Department, req.department_id).slug == "urbanismo"
    last = views.timeline(session, req)[-1]
    assert (last.status, last.department_id) == ("assigned", req.department_id)
    with pytest.raises(ServiceRequestError):  # handing it to the department that already has it changes nothing
        change_status(session, req, "assigned", department="urbanismo", now=clock.now)
    with pytest.raises(ServiceRequestError) as refusal:
        change_status(session, req, "assigned", department="no-existe", now=clock.now)
    assert refusal.value.errors == {"department": "unknown_department"}


# --- working days ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sent, days, due", [
    # Friday 4 Dec 2026: the weekend, Monday 7 (Constitution, moved) and Tuesday 8 (Immaculate) do not count.
    ((2026, 12, 4, 10, 0), 10, date(2026, 12, 22)),
    ((2026, 12, 3, 10, 0), 1, date(2026, 12, 4)),
    ((2026, 12, 3, 10, 0), 2, date(2026, 12, 9)),
    # Sent on a Saturday or on a holiday: counts as sent on the next working day (Wednesday 9).
    ((2026, 12, 5, 11, 0), 1, date(2026, 12, 10)),
    ((2026, 12, 8, 11, 0), 1, date(2026, 12, 10)),
    # Just after midnight in Madrid (still Thursday in UTC): Madrid's calendar day counts.
    ((2026, 12, 4, 0, 30), 1, date(2026, 12, 9)),
    # The North board's own closure (14 Dec) is not a public holiday.
    ((2026, 12, 11, 9, 0), 1, date(2026, 12, 14)),
    # Christmas and New Year.
    ((2026, 12, 23, 9, 0), 3, date(2026, 12, 29)),
    ((2026, 12, 30, 9, 0), 3, date(2027, 1, 5)),
])
def test_due_dates_count_working_days(session, clock, sent, days, due):
    kind = RequestType(slug="x", name="x", description="x", department_id=1, response_days=days)
    assert due_date_for(WorkCalendar(session), kind, clock.at(*sent)) == due


@pytest.mark.parametrize("sent, months, due", [
    ((2026, 12, 1, 9, 0), 3, date(2027, 3, 1)),
    ((2026, 11, 30, 9, 0), 3, date(2027, 3, 1)),  # no 30 February: the month's last day, a Sunday -> Monday
    ((2027, 11, 8, 9, 0), 1, date(2027, 12, 9)),  # 8 December is a holiday: the next working day
    ((2027, 1, 29, 9, 0), 1, date(2027, 3, 1)),  # 28 Feb 2027 is a Sunday
])
def test_due_dates_in_months_run_date_to_date(session, clock, sent, months, due):
    kind = RequestType(slug="x", name="x", description="x", department_id=1, response_months=months)
    assert due_date_for(WorkCalendar(session), kind, clock.at(*sent)) == due


def test_a_new_holiday_counts_at_once(session, clock):
    session.add(Closure(day=date(2026, 12, 9), reason="Fiesta local extraordinaria"))
    session.commit()
    kind = RequestType(slug="x", name="x", description="x", department_id=1, response_days=1)
    assert due_date_for(WorkCalendar(session), kind, clock.at(2026, 12, 4, 10)) == date(2026, 12, 10)


def test_submitted_requests_get_their_due_date(session, clock):
    # Now is Tuesday 1 Dec 2026: 10 working days skip 5-8 Dec (weekend and two holidays).
    assert submit(session, street(), now=clock.now).due_date == date(2026, 12, 17)
    # The general application: the statutory 3 months.
    assert submit(session, application(), now=clock.now).due_date == date(2027, 3, 1)


def test_overdue_only_after_the_due_day_and_while_with_the_town_hall(session, clock, req):
    assert req.due_date == date(2026, 12, 17)
    assert not is_overdue(req, clock.at(2026, 12, 17, 23, 59))
    assert is_overdue(req, clock.at(2026, 12, 18, 0, 1))
    change_status(session, req, "assigned", now=clock.now)
    change_status(session, req, "waiting_citizen", comment="Necesitamos una foto.", now=clock.now)
    assert not is_overdue(req, clock.at(2026, 12, 18, 9))  # paused while waiting for the citizen
    change_status(session, req, "resolved", comment="Reparado.", now=clock.now)
    assert not is_overdue(req, clock.at(2027, 1, 30, 9))


def test_waiting_for_the_citizen_suspends_the_time_limit(session, clock, req):
    change_status(session, req, "assigned", now=clock.now)
    change_status(session, req, "waiting_citizen", comment="¿En qué número exactamente?",
                  now=clock.at(2026, 12, 10, 9))  # Thursday
    change_status(session, req, "in_progress", now=clock.at(2026, 12, 15, 12))  # Tuesday: Fri, Mon, Tue waited
    assert req.due_date == date(2026, 12, 17) + timedelta(days=5)  # 3 working days later: Tuesday 22


# --- codes ----------------------------------------------------------------------------------------------------


def test_codes_are_unique_long_random_and_not_sequential(session, clock):
    made = [submit(session, street(description=f"Aviso número {i}"), now=clock.now) for i in range(150)]
    session.commit()
    secret = [r.code for r in made]
    public = [r.public_id for r in made]
    assert len(set(secret)) == len(secret) and len(set(public)) == len(public)
    assert not set(secret) & set(public)
    assert all(re.fullmatch(f"[{codes.ALPHABET}]{{16}}", c) for c in secret)  # 16 x 5 bits = 80 bits
    assert all(re.fullmatch(f"[{codes.ALPHABET}]{{10}}", c) for c in public)
    assert secret != sorted(secret) and public != sorted(public)
    for a, b in zip(secret, secret[1:]):  # consecutive codes share (almost) nothing
        assert sum(x == y for x, y in zip(a, b)) <= 6
    # Every symbol turns up: the codes use the whole alphabet.
    assert set("".join(secret)) == set(codes.ALPHABET)


def test_find_forgives_typing_but_not_a_wrong_code(session, clock, req):
    shown = rules.format_code(req.code)
    assert re.fullmatch(r"(\w{4}-){3}\w{4}", shown)
    assert rules.find(session, shown).id == req.id
    assert rules.find(session, " " + shown.lower().replace("-", " ") + " ").id == req.id
    typed = req.code.replace("0", "O").replace("1", "l")
    assert rules.find(session, typed).id == req.id
    assert rules.find(session, req.code[:-1]) is None
    assert rules.find(session, req.code[:-1] + ("0" if req.code[-1] != "0" else "1")) is None
    assert rules.find(session, req.public_id) is None  # the public Open311 id opens no timeline
    assert rules.find(session, "") is None and rules.find(session, "<script>") is None


# --- checks of what the citizen sends -------------------------------------------------------------------------


def assert_nothing_stored(session):
    session.rollback()
    assert [count(session, m) for m in (ServiceRequest, StatusChange, Attachment)] == [0, 0, 0]


@pytest.mark.parametrize("raw, errors", [
    (street(description=""), {"description": "required"}),
    (street(description="   \n  "), {"description": "required"}),
    (street(description="x" * 4001), {"description": "too_long"}),
    (street(description="Hola <script>alert(1)</script>"), {"description": "no_html"}),
    (street(description='Mire <a href="http://x">aquí</a>'), {"description": "no_html"}),
    (street(address="", lat=None, lon=None), {"address": "location_required"}),
    (street(address="", lat=40.5, lon=None), {"location": "location"}),
    (street(lat=91, lon=0), {"location": "location"}),
    (street(lat="norte", lon="-3.9"), {"location": "location"}),
    (street(address="Calle <Mayor>"), {"address": "chars"}),
    (street(address="x" * 201), {"address": "too_long"}),
    (street(consent=False), {"consent": "consent_request"}),
    (street(email="ana@"), {"email": "email"}),
    (street(phone="12"), {"phone": "phone"}),
    (street(name="Ana {x}"), {"name": "chars"}),
    (street(type="no-existe"), {"type": "unknown_request_type"}),
    (application(name="", email="", phone="", document=""),
     {"name": "required", "email": "contact_required", "document": "required"}),
    (application(document="12345678A"), {"document": "document_letter"}),
    (street(description="", consent=False, lat=200, lon=1),
     {"description": "required", "location": "location", "consent": "consent_request"}),
])
def test_refused_requests_store_nothing(session, clock, raw, errors):
    with pytest.raises(ServiceRequestError) as refusal:
        submit(session, raw, now=clock.now)
    assert refusal.value.errors == errors
    assert_nothing_stored(session)


def test_an_inactive_type_cannot_be_sent(session, clock):
    kind = rtype(session, COMPLAINT)
    kind.active = False
    session.add(kind)
    session.commit()
    with pytest.raises(ServiceRequestError) as refusal:
        submit(session, street(type=COMPLAINT), now=clock.now)
    assert refusal.value.errors == {"type": "unknown_request_type"}


def test_plain_text_is_kept_as_written(session, clock):
    text = "Entre el 3 y el 5 < 10 metros.\r\nSegunda línea\x00 con «comillas» & más." + "."
    found = submit(session, street(description=text), now=clock.now)
    assert found.description == "Entre el 3 y el 5 < 10 metros.\nSegunda línea con «comillas» & más.."
    assert len(submit(session, street(description="x" * 4000), now=clock.now).description) == 4000


def test_only_the_data_a_type_needs_is_kept(session, clock):
    anonymous = submit(session, street(document="12345678Z", name="", email=""), now=clock.now)
    assert anonymous.document == "" and anonymous.name == ""
    no_place = submit(session, street(type=COMPLAINT, description="El autobús no pasa.", lat=40.1, lon=-3.1,
                                      address="Calle Mayor"), now=clock.now)
    assert (no_place.address, no_place.lat, no_place.lon) == ("", None, None)
    formal = submit(session, application(), now=clock.now)
    assert (formal.document, formal.phone, formal.name) == ("12345678Z", "612345678", "Ana García López")
    assert formal.department_id == rtype(session, APPLICATION).department_id


def test_a_point_alone_is_a_place(session, clock):
    found = submit(session, street(address="", lat="40.6123456789", lon="-3.9"), now=clock.now)
    assert (found.address, found.lat, found.lon) == ("", 40.612346, -3.9)


# --- attachments ----------------------------------------------------------------------------------------------


def test_photos_are_stored_with_their_real_type_size_and_digest(session, clock):
    files = [{"filename": "../../bache.JPG", "content_type": "image/png", "data": b64(JPEG)},
             {"filename": "foto", "data": "data:image/png;base64," + b64(PNG)},
             {"filename": "otra.webp", "content_type": "image/webp", "data": b64(WEBP)}]
    found = submit(session, street(attachments=files), now=clock.now)
    session.commit()
    stored = session.exec(select(Attachment).where(Attachment.request_id == found.id)
                          .order_by(Attachment.position)).all()
    assert [(a.position, a.filename, a.content_type, a.size) for a in stored] == [
        (1, "bache.jpg", "image/jpeg", len(JPEG)), (2, "foto.png", "image/png", len(PNG)),
        (3, "otra.webp", "image/webp", len(WEBP))]
    assert stored[0].data == JPEG and not any(a.public for a in stored)
    assert stored[1].sha256 == hashlib.sha256(PNG).hexdigest()


def gps_photo() -> bytes:
    """A phone photo taken sideways: orientation 6 (turn 90° clockwise), the device, and where it was taken."""
    exif = Image.Exif()
    exif[0x0112], exif[0x010F], exif[0x0110] = 6, "Google", "Pixel 9"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (40.0, 36.0, 36.6), 3: "W", 4: (3.0, 54.0, 4.3)})
    data = photo("JPEG", (40, 20), exif=exif)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)[2] == (40.0, 36.0, 36.6)
    return data


@pytest.mark.parametrize("reply", [False, True])
def test_photos_lose_their_exif_and_stay_upright(session, clock, reply):
    files = [{"filename": "bache.jpg", "data": b64(gps_photo())}]
    found = submit(session, street(attachments=[] if reply else files), now=clock.now)
    if reply:
        intake.reply(session, found, {"text": "Otra foto.", "attachments": files}, now=clock.now)
    stored = views.attachment(session, found, 1)
    image = Image.open(io.BytesIO(stored.data))
    assert image.format == "JPEG" and image.size == (20, 40)  # turned upright before the tag went
    assert dict(image.getexif()) == {} and b"Pixel" not in stored.data and b"Google" not in stored.data
    assert (stored.size, stored.sha256) == (len(stored.data), hashlib.sha256(stored.data).hexdigest())


@pytest.mark.parametrize("data, code", [
    (JPEG[:40], "photo_unreadable"),  # the first bytes of a JPEG, and nothing a decoder can use
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "photo_unreadable"),
    (photo("PNG", (8000, 6000), "1"), "photo_too_large"),  # 48 megapixels in a few KB: a decompression bomb
])
def test_photos_that_do_not_decode_are_refused_and_nothing_is_stored(session, clock, data, code):
    assert len(data) < 100_000
    with pytest.raises(ServiceRequestError) as refusal:
        submit(session, street(attachments=[{"filename": "a.png", "data": b64(data)}]), now=clock.now)
    assert refusal.value.errors == {"attachments": code}
    assert session.exec(select(func.count()).select_from(ServiceRequest)).one() == 0


def test_a_pdf_goes_with_an_application(session, clock):
    found = submit(session, application(attachments=[{"filename": "escrito.pdf", "data": b64(PDF)}]),
                   now=clock.now)
    assert views.attachment(session, found, 1).content_type == "application/pdf"


@pytest.mark.parametrize("raw, code", [
    (street(attachments=[{"filename": "a.gif", "data": b64(GIF)}]), "file_type_photo"),
    (street(attachments=[{"filename": "a.pdf", "data": b64(PDF)}]), "file_type_photo"),
    (street(attachments=[{"filename": "virus.jpg", "content_type": "image/jpeg", "data": b64(b"MZ\x90\x00" * 50)}]),
     "file_type_photo"),
    (street(attachments=[{"filename": "big.jpg", "data": b64(JPEG[:4] + b"\x00" * (MAX_FILE_BYTES - 3))}]),
     "file_too_big"),
    (street(attachments=[{"filename": "a.jpg", "data": b64(JPEG)}] * 4), "too_many_files"),
    (street(attachments=[{"filename": "a.jpg", "data": "esto no es base64!"}]), "file_unreadable"),
    (street(attachments=[{"filename": "a.jpg", "data": ""}]), "file_unreadable"),
    (street(attachments=["no es un objeto"]), "file_unreadable"),
    (application(attachments=[{"filename": "a.gif", "data": b64(GIF)}]), "file_type"),
    (street(type="solicitud-certificado", name="Ana", email="ana@example.com", document="12345678Z",
            attachments=[{"filename": "a.jpg", "data": b64(JPEG)}]), "file_type_pdf"),
])
def test_refused_attachments_store_nothing(session, clock, raw, code):
    with pytest.raises(ServiceRequestError) as refusal:
        submit(session, raw, now=clock.now)
    assert refusal.value.errors == {"attachments": code}
    assert_nothing_stored(session)


def test_a_type_without_attachments_refuses_them(session, clock):
    kind = rtype(session, COMPLAINT)
    kind.allows_photo = False
    session.add(kind)
    session.commit()
    with pytest.raises(ServiceRequestError) as refusal:
        submit(session, street(type=COMPLAINT, attachments=[{"filename": "a.jpg", "data": b64(JPEG)}]),
               now=clock.now)
    assert refusal.value.errors == {"attachments": "no_files"}


def test_a_file_of_exactly_5_mb_is_accepted(session, clock):
    data = JPEG + b"\x00" * (MAX_FILE_BYTES - len(JPEG))  # what follows the image's end is not kept
    found = submit(session, street(attachments=[{"filename": "a.jpg", "data": b64(data)}]), now=clock.now)
    assert views.attachment(session, found, 1).data == JPEG


def test_published_photos_only(session, clock):
    found = submit(session, application(attachments=[{"filename": "a.pdf", "data": b64(PDF)},
                                                     {"filename": "a.jpg", "data": b64(JPEG)}]), now=clock.now)
    assert not workflow.publish_attachment(session, found, 1).public  # a document is never published
    assert workflow.publish_attachment(session, found, 2).public


# --- idempotency ----------------------------------------------------------------------------------------------


def submit_action(session, raw, clock):
    def action():
        found = submit(session, raw, now=clock.now)
        return 201, {"code": found.code}

    return action


def test_the_same_key_submits_once(session, clock):
    raw = street(attachments=[{"filename": "a.jpg", "data": b64(JPEG)}])
    payload = intake.payload_digest(raw)
    first = run_once(session, "request-key-0001", "request", payload, submit_action(session, raw, clock))
    again = run_once(session, "request-key-0001", "request", payload, submit_action(session, raw, clock))
    assert first == again
    assert [count(session, m) for m in (ServiceRequest, StatusChange, Attachment)] == [1, 1, 1]
    other = street(attachments=[{"filename": "a.jpg", "data": b64(PNG)}])  # same name, other photo
    with pytest.raises(KeyReused):
        run_once(session, "request-key-0001", "request", intake.payload_digest(other),
                 submit_action(session, other, clock))
    session.rollback()
    assert count(session, ServiceRequest) == 1


def test_a_refused_submission_is_not_remembered(session, clock):
    bad = street(description="")
    with pytest.raises(ServiceRequestError):
        run_once(session, "request-key-0002", "request", intake.payload_digest(bad),
                 submit_action(session, bad, clock))
    session.rollback()
    assert session.get(IdempotencyRecord, "request-key-0002") is None


# --- the citizen's reply --------------------------------------------------------------------------------------


def test_a_reply_resumes_a_request_waiting_for_the_citizen(session, clock, req):
    change_status(session, req, "assigned", now=clock.now)
    change_status(session, req, "waiting_citizen", comment="Envíenos una foto.", now=clock.at(2026, 12, 10, 9))
    intake.reply(session, req, {"text": "Aquí la tiene.", "attachments": [{"filename": "f.jpg",
                                                                           "data": b64(JPEG)}]},
                   now=clock.at(2026, 12, 11, 9))
    session.commit()
    history = views.timeline(session, req)
    assert [(c.status, c.actor) for c in history[-2:]] == [("waiting_citizen", "citizen"),
                                                           ("in_progress", "department")]
    assert history[-2].comment == "Aquí la tiene."
    assert views.attachment(session, req, 2) is None
    assert views.attachment(session, req, 1).status_change_id == history[-2].id
    assert req.status == "in_progress" and req.due_date == date(2026, 12, 18)  # one working day waited


def test_a_waiting_request_takes_a_document_as_the_answer(session, clock, req):
    change_status(session, req, "assigned", now=clock.now)
    change_status(session, req, "waiting_citizen", comment="Envíe la autorización.", now=clock.now)
    intake.reply(session, req, {"attachments": [{"filename": "autorizacion.pdf", "data": b64(PDF)}]},
                   now=clock.now)
    assert views.attachment(session, req, 1).content_type == "application/pdf"


def test_replies_are_checked(session, clock, req):
    with pytest.raises(ServiceRequestError) as refusal:
        intake.reply(session, req, {"text": ""}, now=clock.now)
    assert refusal.value.errors == {"text": "required"}
    with pytest.raises(ServiceRequestError) as refusal:
        intake.reply(session, req, {"text": "<img src=x>"}, now=clock.now)
    assert refusal.value.errors == {"text": "no_html"}
    change_status(session, req, "closed", now=clock.now)
    with pytest.raises(ServiceRequestError) as refusal:
        intake.reply(session, req, {"text": "¿Y ahora?"}, now=clock.now)
    assert refusal.value.errors == {"text": "not_open"}


# --- the tracking view ----------------------------------------------------------------------------------------


def test_view_in_spanish_and_english(session, clock, req):
    change_status(session, req, "assigned", comment="Lo revisamos esta semana.", now=clock.moved(hours=1).now)
    es = request_view(session, req, "es", now=clock.moved(hours=2).now)
    en = request_view(session, req, "en", now=clock.moved(hours=2).now)
    assert es["code"] == en["code"] == rules.format_code(req.code)
    assert (es["status"], es["status_label"], en["status_label"]) == ("assigned", "Asignada", "Assigned")
    assert es["department"]["name"] == "Vías Públicas y Alumbrado"
    assert en["department"]["name"] == "Streets and Street Lighting"
    assert en["type"]["name"] == "Problem in a street or public space"
    assert es["due_date"] == "2026-12-17"
    assert es["due_label"] == "Respuesta prevista, a más tardar, el jueves, 17 de diciembre de 2026"
    assert en["due_label"] == "Answer expected by Thursday, December 17, 2026"
    assert es["overdue"] is False and es["overdue_label"] is None and es["expected_from_citizen"] is None
    assert [e["status"] for e in es["timeline"]] == ["received", "assigned"]
    assert es["timeline"][1]["comment"] == "Lo revisamos esta semana."
    assert es["timeline"][1]["department"] == {"slug": "vias-publicas", "name": "Vías Públicas y Alumbrado"}
    assert es["timeline"][0]["at"].startswith("2026-12-01T08:00:00+01:00")
    assert es["as_of_label"] == "1 dic 2026, 10:00"
    assert en["as_of_label"] == "Dec 1, 2026, 10:00"
    for private in ("name", "email", "phone", "document"):
        assert private not in es
    assert es["fallback"] is False and en["fallback"] is False


def test_view_in_a_language_without_content_translations_falls_back_to_spanish(session, clock, req):
    from sqlmodel import delete

    from pwa_app.models import ContentTranslation

    # The demo content exists in every language; a text staff wrote in Spanish only is what falls back.
    session.exec(delete(ContentTranslation).where(ContentTranslation.lang == "fr"))
    session.commit()
    fr = request_view(session, req, "fr", now=clock.now)
    assert fr["lang"] == "fr" and fr["fallback"] is True
    assert fr["department"]["name"] == "Vías Públicas y Alumbrado"
    assert "jeudi 17 décembre 2026" in fr["due_label"]  # the date itself is always in the language


def test_view_says_what_is_expected_from_the_citizen(session, clock, req):
    change_status(session, req, "assigned", now=clock.now)
    change = change_status(session, req, "waiting_citizen", comment="Indíquenos el número de portal.",
                           now=clock.at(2026, 12, 4, 9))
    workflow.translate_comment(session, change, "en", "Please tell us the street number.")
    es = request_view(session, req, "es", now=clock.at(2026, 12, 4, 10))
    en = request_view(session, req, "en", now=clock.at(2026, 12, 4, 10))
    assert es["status_label"] == "Esperando su respuesta" and es["paused"] is True
    assert es["expected_from_citizen"]["text"] == "Indíquenos el número de portal."
    assert en["expected_from_citizen"]["text"] == "Please tell us the street number."
    assert en["timeline"][-1]["comment_lang"] == "en" and es["timeline"][-1]["comment_lang"] == "es"
    # 10 working days from Friday 4 Dec: 7 and 8 Dec are holidays.
    assert es["expected_from_citizen"]["respond_by"] == "2026-12-22"


def test_view_flags_an_overdue_request(session, clock, req):
    assert request_view(session, req, "en", now=clock.at(2026, 12, 17, 9))["overdue"] is False
    view = request_view(session, req, "en", now=clock.at(2026, 12, 18, 9))
    assert view["overdue"] is True
    assert view["overdue_label"].startswith("The answer is late")


def test_request_types_for_the_form(session):
    es, en = views.request_types(session, "es"), views.request_types(session, "en")
    slugs = [t["slug"] for t in es["types"]]
    assert slugs == [t["slug"] for t in en["types"]] == [t["slug"] for t in REQUEST_TYPES]
    street_type = next(t for t in en["types"] if t["slug"] == STREET)
    assert street_type["name"] == "Problem in a street or public space"
    assert street_type["response_label"] == "Answer within 10 working days"
    assert street_type["accept"] == ["image/jpeg", "image/png", "image/webp"] and street_type["needs_location"]
    general = next(t for t in es["types"] if t["slug"] == APPLICATION)
    assert general["response_months"] == 3 and general["response_label"] == "Respuesta en un plazo de 3 meses"
    assert general["needs_contact"] and general["needs_document"]
    assert [s["status"] for s in es["statuses"]] == list(STATUSES)
    assert es["fallback"] is False and en["fallback"] is False
    assert es["limits"]["description_max"] == 4000 and es["limits"]["max_file_bytes"] == 5 * 1024 * 1024


# --- seed -----------------------------------------------------------------------------------------------------


def test_seeded_departments_and_types(session):
    departments = {d.slug: d for d in session.exec(select(Department))}
    assert {"atencion-ciudadania", "vias-publicas", "servicios-sociales", "urbanismo", "hacienda",
            "secretaria"} <= set(departments)
    assert all(d.email.endswith("@villanuevadelpinar.es") and d.phone for d in departments.values())
    types = session.exec(select(RequestType)).all()
    assert {STREET, APPLICATION, COMPLAINT, "solicitud-certificado", "ayuda-social"} <= {t.slug for t in types}
    assert all(t.response_months or t.response_days for t in types)
    assert rtype(session, APPLICATION).response_months == 3
    assert rtype(session, STREET).allows_photo and rtype(session, STREET).allows_location
    assert {t.slug for t in types if t.public} == {STREET, "alumbrado-publico"}
    assert not rtype(session, "ayuda-social").public


@pytest.mark.parametrize("model", [Department, RequestType])
def test_request_content_is_translated_to_english(session, model):
    table = model.__tablename__
    translated = {(t.row_id, t.field) for t in session.exec(select(ContentTranslation).where(
        ContentTranslation.table_name == table, ContentTranslation.lang == "en"))}
    for row in session.exec(select(model)):
        for name in TRANSLATABLE[table]:
            if getattr(row, name):
                assert (row.id, name) in translated, (table, row.slug, name)


def test_request_types_can_be_added_to_an_older_database(session):
    assert seed_request_types(session) is False  # already there
    session.exec(delete(RequestType))
    session.exec(delete(Department))
    session.exec(delete(ContentTranslation).where(ContentTranslation.table_name.in_(["department", "requesttype"])))
    session.commit()
    assert seed_request_types(session) is True
    assert count(session, RequestType) == len(REQUEST_TYPES)


# --- command line and PostgreSQL ------------------------------------------------------------------------------


def test_staff_command_line_changes_a_status(engine, clock, monkeypatch, capsys):
    from pwa_app import db

    with Session(engine, expire_on_commit=False) as s:
        found = submit(s, street(), now=clock.now)
        s.commit()
    override_settings(monkeypatch, DATABASE_URL=engine.url.render_as_string(hide_password=False))
    db.engine.cache_clear()
    try:
        assert __main__.main(["status", found.code, "assigned", "--comment", "En marcha."]) == 0
        assert '"status": "assigned"' in capsys.readouterr().out
        assert __main__.main(["status", found.code, "received"]) == 2
        assert __main__.main(["show", "0000-0000-0000-0000"]) == 1
    finally:
        db.engine().dispose()
        db.engine.cache_clear()
    with Session(engine) as s:
        assert s.get(ServiceRequest, found.id).status == "assigned"


def test_postgresql_submit_change_and_view(pg_engine, clock):
    with Session(pg_engine, expire_on_commit=False) as s:
        try:
            raw = street(attachments=[{"filename": "a.jpg", "data": b64(JPEG)}])
            payload = intake.payload_digest(raw)
            first = run_once(s, "pg-request-key-1", "request", payload, submit_action(s, raw, clock))
            again = run_once(s, "pg-request-key-1", "request", payload, submit_action(s, raw, clock))
            assert first == again
            found = rules.find(s, first[1]["code"])
            assert found.submitted_at == clock.now and found.due_date == date(2026, 12, 17)
            change_status(s, found, "assigned", now=clock.moved(hours=1).now)
            change_status(s, found, "waiting_citizen", comment="Una foto, por favor.", now=clock.at(2026, 12, 10, 9))
            change_status(s, found, "in_progress", now=clock.at(2026, 12, 11, 9))
            s.commit()
            view = request_view(s, found, "es", now=clock.at(2026, 12, 11, 10))
            assert [e["status"] for e in view["timeline"]] == ["received", "assigned", "waiting_citizen",
                                                               "in_progress"]
            assert view["due_date"] == "2026-12-18"
            assert views.attachment(s, found, 1).data == JPEG
        finally:
            s.rollback()
            for model in (Attachment, StatusChange, ServiceRequest):
                s.exec(delete(model))
            s.commit()


# --- staff helpers --------------------------------------------------------------------------------------------


def test_the_staff_queue_puts_overdue_requests_first(session, clock):
    late = submit(session, street(type="alumbrado-publico", description="Farola apagada."),
                  now=clock.at(2026, 11, 2, 9))
    soon = submit(session, street(), now=clock.now)
    later = submit(session, application(), now=clock.now)
    done = submit(session, street(description="Ya arreglado."), now=clock.now)
    change_status(session, done, "closed", now=clock.now)
    rows = workflow.open_requests(session, now=clock.now)
    assert [r["code"] for r in rows] == [rules.format_code(x.code) for x in (late, soon, later)]
    assert [r["overdue"] for r in rows] == [True, False, False]
    assert rows[0]["status_label"] == "Recibida" and rows[0]["department"] == "Vías Públicas y Alumbrado"
    assert "email" not in rows[2] and "document" not in rows[2]
    assert [r["code"] for r in workflow.open_requests(session, "atencion-ciudadania", now=clock.now)] == [
        rules.format_code(later.code)]


def test_personal_data_is_forgotten_after_the_retention_period(session, clock):
    kept = submit(session, application(), now=clock.now)
    closed = submit(session, application(), now=clock.now)
    change_status(session, closed, "closed", now=clock.moved(days=1).now)
    assert workflow.forget_personal_data(session, clock.now) == 0  # closed after the cut-off
    assert workflow.forget_personal_data(session, clock.moved(days=2).now) == 1
    session.refresh(closed)
    assert (closed.name, closed.email, closed.phone, closed.document) == ("", "", "", "")
    assert closed.description and views.timeline(session, closed)
    assert kept.email == "ana@example.com"
    assert workflow.forget_personal_data(session, clock.moved(days=2).now) == 0
