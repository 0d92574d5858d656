"""Seats kept for the phone and the counter (issue 26): the citizen's booking page does not offer them; the seats of
slots within the release window (the configured hours before the start) are offered and the citizen books one.
Staff set the kept seats in the schedules screen and a daily quota of walk-in tickets in the desk console.

The app runs on the wall clock, so the release window is set around it: every seat of the pair is kept for staff,
released `hours` before its slot, with `hours` chosen so that the first day with free times is inside the window
and every later day outside it."""

import re
from datetime import datetime, timedelta, timezone

import httpx
from playwright.sync_api import expect
from sqlmodel import select

from pwa_app.appointments import availability  # noqa: F401  (this process's commits write the versions to Redis)
from pwa_app.models import Office, Procedure, Schedule
from tests.e2e.test_staff import ADMIN, accounts, sign_in, tablet  # noqa: F401  (a fixture)

PROCEDURE, OFFICE = "tasa-residuos", "junta-distrito-norte"  # no other browser test books this pair
NAME, DNI = "Lucía Romero Gil", "31415926L"


def answer(app_server) -> dict:
    got = httpx.get(f"{app_server.base_url}/api/v1/availability", params={"procedure": PROCEDURE, "office": OFFICE})
    got.raise_for_status()
    return got.json()


def keep_for_staff(app_server, hours: int | None) -> None:
    """Every seat of the pair's schedules kept for staff until `hours` before its slot (None: none kept)."""
    with app_server.session() as s:
        p = s.exec(select(Procedure).where(Procedure.slug == PROCEDURE)).one()
        o = s.exec(select(Office).where(Office.slug == OFFICE)).one()
        for sched in s.exec(select(Schedule).where(Schedule.procedure_id == p.id, Schedule.office_id == o.id)):
            sched.staff_seats, sched.staff_seats_hours = (sched.capacity, hours) if hours else (0, 24)
            s.add(sched)
        s.commit()


def starts(day: dict) -> list[datetime]:
    return [datetime.fromisoformat(t["start"]) for t in day["slots"]]


def test_seats_kept_for_the_phone_are_not_offered_until_their_release(page, app_server, shot):
    days = [d for d in answer(app_server)["days"] if d["free"]]
    first, later = days[0], days[1]
    now = datetime.now(timezone.utc)
    hours = int((starts(first)[-1] - now).total_seconds() // 3600) + 1  # the first day's last slot is released
    assert starts(later)[0] - now > timedelta(hours=hours + 1), "the next day opens within the window"
    keep_for_staff(app_server, hours)
    try:
        kept = {d["date"]: d for d in answer(app_server)["days"]}
        assert kept[first["date"]]["free"] == first["free"]  # released: every free time still offered
        assert all(d["free"] == 0 for d in kept.values() if d["date"] > first["date"])  # kept: none offered

        page.goto(f"/en/reservar/?p={PROCEDURE}")
        page.get_by_role("button", name=re.compile("North District Municipal Office")).click()
        expect(page.locator("button.day.open")).to_have_count(1)
        shot(page, "only-the-released-day")
        page.locator("button.day.open").first.click()
        page.locator("button.time:not([disabled])").first.click()
        page.get_by_label("Full name").fill(NAME)
        page.get_by_label("DNI, NIE or passport number").fill(DNI)
        page.get_by_label(re.compile("I have read the privacy notice")).check()
        page.get_by_role("button", name="Confirm booking").click()
        expect(page.get_by_role("heading", name="Appointment booked")).to_be_visible()
        shot(page, "booked-a-released-seat")
        [booked] = app_server.appointments("booked", NAME)
        assert booked.starts_at.astimezone(timezone.utc) in starts(first)
    finally:
        keep_for_staff(app_server, None)


def test_staff_keep_seats_in_the_schedule_and_cap_the_walk_ins_of_a_day(browser, accounts, shot):
    """On the tablet: a schedule keeps a seat for the phone and the counter (then is put back); the desk console
    shows the walk-in tickets given today against the office's quota and refuses one past it."""
    context, page, errors = tablet(browser, accounts)
    sign_in(page, ADMIN, "/staff/ajustes/horarios/")
    first = page.locator("table tbody tr").first
    for seats, hours, shown, was in (("1", "48", "1 hasta 48 h antes", "0"), ("0", "24", "—", "1")):
        first.get_by_role("button", name=re.compile("^Editar")).click()
        expect(page.get_by_role("heading", name="Cambiar horario")).to_be_visible()
        expect(page.get_by_label("De ellos, para teléfono y mostrador")).to_have_value(was)  # the form filled
        page.get_by_label("De ellos, para teléfono y mostrador").fill(seats)
        page.get_by_label("Se liberan a la web (horas antes)").fill(hours)
        page.get_by_role("button", name="Guardar cambios").click()
        expect(first.locator("td").nth(5)).to_have_text(shown)
        if seats == "1":
            shot(page, "schedule-staff-seats")

    page.goto("/staff/cola/")
    figure = page.locator("#staff-walk-ins")
    expect(figure).to_contain_text("Turnos sin cita hoy")
    page.get_by_label("Oficina").select_option(label="Junta Municipal de Distrito Norte")  # the OAC's are test_staff's
    # The OAC offers the same procedure: the screen link names the office the console now shows (on PostgreSQL
    # with several workers the change may land after the list of procedures looks right).
    expect(page.get_by_role("link", name="Abrir la pantalla de turnos")).to_have_attribute(
        "href", re.compile(r"oficina=junta-distrito-norte"))
    given = int(re.search(r"\d+", figure.inner_text()).group())
    page.get_by_label("Cupo diario de turnos sin cita").fill(str(given + 1))
    page.get_by_role("button", name="Guardar cupo").click()
    expect(figure).to_have_text(re.compile(rf"{given}\s+de\s+{given + 1}"))
    page.get_by_role("button", name="Dar turno").click()
    expect(figure).to_have_text(re.compile(rf"{given + 1}\s+de\s+{given + 1}"))
    page.get_by_role("button", name="Dar turno").click()
    expect(page.get_by_role("alert")).to_contain_text("cupo de turnos sin cita")
    expect(figure).to_have_text(re.compile(rf"{given + 1}\s+de\s+{given + 1}"))
    shot(page, "queue-quota-reached")
    page.get_by_label("Cupo diario de turnos sin cita").fill("0")
    page.get_by_role("button", name="Guardar cupo").click()
    expect(figure).to_contain_text("sin cupo")
    context.close()
    assert not errors, errors
