"""The appointment .ics file, parsed back with icalendar."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from pwa_app.appointments.calendar_file import appointment_ics

MADRID = ZoneInfo("Europe/Madrid")
CHECKLIST = (
    "Qué traer:\n"
    "- DNI o NIE válido\n"
    "- Justificante de la tasa: 12,50 €\n"
    "- Certificado de empadronamiento del año en curso (Peñaranda)"
)


def make(starts_at, **overrides):
    kwargs = dict(
        uid="cita-ABCDE-FGHJK@ayuntamiento.example",
        summary="Cita: Padrón municipal",
        starts_at=starts_at,
        duration_minutes=20,
        location="Ayuntamiento, Plaza Mayor 1, ventanilla 3",
        description=CHECKLIST,
    )
    kwargs.update(overrides)
    return appointment_ics(**kwargs)


def parse(data: bytes):
    cal = Calendar.from_ical(data)
    (event,) = cal.walk("VEVENT")
    return cal, event


def wall_time(event, name="DTSTART"):
    prop = event[name]
    assert prop.params["TZID"] == "Europe/Madrid"
    return prop.dt.replace(tzinfo=None)


@pytest.mark.parametrize(
    ("instant", "local"),
    [
        (datetime(2026, 7, 1, 7, 0, tzinfo=UTC), datetime(2026, 7, 1, 9, 0)),  # CEST
        (datetime(2026, 12, 1, 8, 0, tzinfo=UTC), datetime(2026, 12, 1, 9, 0)),  # CET
        # Last Sunday of October: DST ends at 03:00, so 10:00 is already CET.
        (datetime(2026, 10, 25, 9, 0, tzinfo=UTC), datetime(2026, 10, 25, 10, 0)),
        (datetime(2026, 10, 25, 10, 0, tzinfo=MADRID), datetime(2026, 10, 25, 10, 0)),
        # Any aware input zone is converted to Madrid wall time.
        (
            datetime(2026, 7, 1, 3, 0, tzinfo=ZoneInfo("America/New_York")),
            datetime(2026, 7, 1, 9, 0),
        ),
    ],
)
def test_start_is_local_wall_time_with_tzid(instant, local):
    data = make(instant)
    _, event = parse(data)
    assert wall_time(event) == local
    assert event.start == instant  # same instant
    assert f"DTSTART;TZID=Europe/Madrid:{local:%Y%m%dT%H%M%S}".encode() in data
    assert b"DTSTART:2026" not in data  # not a UTC/floating time


def test_duration_and_end_in_local_zone():
    _, event = parse(make(datetime(2026, 10, 25, 10, 0, tzinfo=MADRID)))
    assert wall_time(event, "DTEND") == datetime(2026, 10, 25, 10, 20)
    assert event.end - event.start == timedelta(minutes=20)
    assert event.duration == timedelta(minutes=20)


def test_calendar_headers_and_vtimezone():
    cal, _ = parse(make(datetime(2026, 7, 1, 7, 0, tzinfo=UTC)))
    assert cal["VERSION"] == "2.0"
    assert cal["PRODID"] == "-//Cita//Ayuntamiento//ES"
    assert cal["METHOD"] == "PUBLISH"
    (vtz,) = cal.walk("VTIMEZONE")
    assert vtz["TZID"] == "Europe/Madrid"
    assert cal.get_missing_tzids() == set()
    # The VTIMEZONE alone reproduces the offsets on both sides of DST.
    tzinfo = vtz.to_tz()
    assert datetime(2026, 7, 1, 9, tzinfo=tzinfo).utcoffset() == timedelta(hours=2)
    assert datetime(2026, 12, 1, 9, tzinfo=tzinfo).utcoffset() == timedelta(hours=1)
    assert datetime(2026, 10, 25, 10, tzinfo=tzinfo).utcoffset() == timedelta(hours=1)


def test_custom_prodid():
    cal, _ = parse(make(datetime(2026, 7, 1, 7, 0, tzinfo=UTC), prodid="-//X//Y//ES"))
    assert cal["PRODID"] == "-//X//Y//ES"


def test_event_fields():
    before = datetime.now(UTC).replace(microsecond=0)
    _, event = parse(
        make(datetime(2026, 7, 1, 7, 0, tzinfo=UTC), url="https://cita.example/c/ABCDE")
    )
    assert event["UID"] == "cita-ABCDE-FGHJK@ayuntamiento.example"
    assert event["SUMMARY"] == "Cita: Padrón municipal"
    assert event["LOCATION"] == "Ayuntamiento, Plaza Mayor 1, ventanilla 3"
    assert event["URL"] == "https://cita.example/c/ABCDE"
    assert event["STATUS"] == "CONFIRMED"
    assert event["DTSTAMP"].dt.utcoffset() == timedelta(0)
    assert event["DTSTAMP"].dt >= before


def test_description_keeps_checklist_lines_and_non_ascii():
    data = make(datetime(2026, 7, 1, 7, 0, tzinfo=UTC))
    data.decode("utf-8")  # valid UTF-8 even after 75-octet line folding
    _, event = parse(data)
    assert event["DESCRIPTION"] == CHECKLIST
    lines = event["DESCRIPTION"].splitlines()
    assert "- Justificante de la tasa: 12,50 €" in lines
    assert any("ñ" in line for line in lines)
    assert any("á" in line for line in lines)


def test_no_url_property_when_not_given():
    _, event = parse(make(datetime(2026, 7, 1, 7, 0, tzinfo=UTC)))
    assert "URL" not in event


def test_two_display_alarms_with_summary_as_default_text():
    _, event = parse(make(datetime(2026, 7, 1, 7, 0, tzinfo=UTC)))
    alarms = event.walk("VALARM")
    assert sorted(a["TRIGGER"].dt for a in alarms) == [
        timedelta(days=-1),
        timedelta(hours=-2),
    ]
    assert {a["ACTION"] for a in alarms} == {"DISPLAY"}
    assert {a["DESCRIPTION"] for a in alarms} == {"Cita: Padrón municipal"}


def test_alarm_text():
    _, event = parse(
        make(datetime(2026, 7, 1, 7, 0, tzinfo=UTC), alarm_text="Mañana: trae el DNI")
    )
    assert {a["DESCRIPTION"] for a in event.walk("VALARM")} == {"Mañana: trae el DNI"}


def test_other_zone():
    cal, event = parse(
        make(datetime(2026, 7, 1, 7, 0, tzinfo=UTC), tz="Atlantic/Canary")
    )
    assert event["DTSTART"].params["TZID"] == "Atlantic/Canary"
    assert event["DTSTART"].dt.replace(tzinfo=None) == datetime(2026, 7, 1, 8, 0)
    assert cal.walk("VTIMEZONE")[0]["TZID"] == "Atlantic/Canary"


def test_naive_start_is_rejected():
    with pytest.raises(ValueError):
        make(datetime(2026, 7, 1, 9, 0))
