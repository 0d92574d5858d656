"""The JSON of an availability answer: days, free times and labels in the citizen's language."""

from datetime import date, datetime
from functools import lru_cache

from pwa_app.appointments.slots import Slot, Window
from pwa_app.common.i18n import day_label, gettext, local, long_day_label, month_label, time_label
from pwa_app.common.messages import RELEASE


# ---- the answer ----------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _day(day: date, lang: str) -> tuple[str, str]:
    return day.isoformat(), day_label(day, lang)


@lru_cache(maxsize=65536)
def _time(moment: datetime, lang: str) -> tuple[str, str]:
    return moment.isoformat(), time_label(moment, lang)


def body(procedure: str, office: str, window: Window, slots: list[Slot], first: date, last: date, lang: str) -> dict:
    """The availability answer: days between `first` and `last` with their slots (free seats each), how many free
    times each day has, and the earliest free time (which office has the soonest is said from it)."""
    days: dict[date, dict] = {}
    for s in slots:
        moment = local(s.starts_at)
        if not first <= moment.date() <= last:
            continue
        if (day := days.get(moment.date())) is None:
            iso, label = _day(moment.date(), lang)
            day = days[moment.date()] = {"date": iso, "label": label, "free": 0, "slots": []}
        iso, label = _time(moment, lang)
        day["free"] += s.free > 0  # free times, as the citizen sees them (not seats: 18 times, not 54)
        day["slots"].append({"start": iso, "time": label, "free": s.free})
    months = {d.strftime("%Y-%m"): month_label(d, lang) for d in days}
    soonest = next(({"start": s["start"], "label": f"{d['label']} · {s['time']}"} for d in days.values()
                    for s in d["slots"] if s["free"] > 0), None)
    release = local(window.next_release) if window.next_release else None
    return {"procedure": procedure, "office": office, "from": first.isoformat(), "to": last.isoformat(),
            "horizon": window.last.isoformat(), "months": months, "days": list(days.values()), "earliest": soonest,
            "next_release": release.isoformat() if release else None,
            "next_release_label": gettext(lang, RELEASE).format(day=long_day_label(release.date(), lang),
                                                                time=time_label(release, lang)) if release else ""}
