"""The .ics calendar file of an appointment: the API's download and the confirmation mail's attachment."""

from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone

from pwa_app.common.codes import format_code
from pwa_app.common.i18n import gettext, local

# Reminders relative to the start: the day before (to plan the trip and the
# paperwork) and two hours before (to leave home).
REMINDERS = (timedelta(days=-1), timedelta(hours=-2))


def appointment_ics(
    *,
    uid: str,
    summary: str,
    starts_at: datetime,
    duration_minutes: int,
    location: str,
    description: str,
    url: str = "",
    tz: str = "Europe/Madrid",
    alarm_text: str = "",
    prodid: str = "-//Cita//Ayuntamiento//ES",
) -> bytes:
    """One confirmed appointment as an iCalendar (RFC 5545) file."""
    if starts_at.tzinfo is None or starts_at.utcoffset() is None:
        raise ValueError("starts_at must be timezone-aware")
    # Local wall time with TZID, not UTC: the citizen sees "09:00" as the
    # office hour, and clients keep it right across DST rule changes.
    start = starts_at.astimezone(ZoneInfo(tz))
    cal = Calendar()
    cal.add("prodid", prodid)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    cal.add_component(_vtimezone(tz, start))
    event = _event(uid, summary, start, duration_minutes, location, description)
    if url:
        event.add("url", url)
    for trigger in REMINDERS:
        event.add_component(_alarm(trigger, alarm_text or summary))
    cal.add_component(event)
    return cal.to_ical()


def for_appointment(appt, procedure: dict, office: dict, requirements: list[str], lang: str,
                    people: list[str] = ()) -> bytes:
    """The calendar file of `appt` in the citizen's language: `procedure` and `office` carry their translated
    names (procedure: name, duration_minutes; office: name, address), `requirements` what to bring, `people` the
    names of everyone coming when a visit brings several."""
    say = partial(gettext, lang)
    who = [say("People") + ": " + ", ".join(people), ""] if people else []
    return appointment_ics(
        uid=f"{appt.code}@cita", summary=procedure["name"], starts_at=local(appt.starts_at),
        duration_minutes=procedure["duration_minutes"] or 15, location=f"{office['name']}, {office['address']}",
        description="\n".join([*who, checklist(format_code(appt.code), requirements, say)]),
        alarm_text=procedure["name"],
    )


def checklist(code: str, requirements: list[str], say) -> str:
    """The event's description in the citizen's language (`say` is their gettext): the booking code and what to
    bring, so the calendar entry alone is enough at the office door."""
    return "\n".join([say("Booking code") + ": " + code, "", say("What to bring") + ":",
                      *("- " + item for item in requirements)])


def _event(uid, summary, start, duration_minutes, location, description):
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", start)
    # DTEND in wall time too; timedelta arithmetic on an aware datetime keeps
    # the wall clock, which is what an office appointment means.
    event.add("dtend", start + timedelta(minutes=duration_minutes))
    event.add("summary", summary)
    event.add("location", location)
    event.add("description", description)
    event.add("status", "CONFIRMED")
    return event


def _alarm(trigger: timedelta, text: str) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", trigger)
    alarm.add("description", text)
    return alarm


def _vtimezone(tzid: str, start: datetime) -> Timezone:
    # Only the years around the appointment: the full 1970-2038 history is
    # ~2.5 KB of RDATEs that no client needs for a single event.
    return Timezone.from_tzid(
        tzid,
        first_date=date(start.year - 1, 1, 1),
        last_date=date(start.year + 2, 1, 1),
    )
