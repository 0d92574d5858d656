"""Languages, gettext catalogues and locale formatting (babel). Source strings are English; Spanish is the default."""

from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
DEFAULT_LANG = "es"
# Each language named in itself, in the order the picker shows them.
LANGUAGES: dict[str, str] = {"es": "Español", "en": "English"}
RTL_LANGS = {"ar"}
TZ = ZoneInfo("Europe/Madrid")


def pick_lang(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANG


@cache
def translations(lang: str) -> NullTranslations:
    if lang == "en":
        return NullTranslations()
    return Translations.load(str(LOCALES_DIR), [lang], "messages")


def gettext(lang: str, message: str) -> str:
    return translations(pick_lang(lang)).gettext(message)


def text_direction(lang: str) -> str:
    return "rtl" if lang in RTL_LANGS else "ltr"


def local(moment: datetime) -> datetime:
    """A UTC datetime from the database as Madrid wall time (naive ones are taken as UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))).astimezone(TZ)


def day_label(day: date, lang: str) -> str:
    return format_skeleton("MMMMEEEEd", day, locale=pick_lang(lang))


def long_day_label(day: date, lang: str) -> str:
    return format_date(day, "full", locale=Locale.parse(pick_lang(lang)))


def time_label(dt: datetime, lang: str) -> str:
    return format_time(dt, "HH:mm", locale=Locale.parse(pick_lang(lang)))


def month_label(day: date, lang: str) -> str:
    return format_skeleton("yMMMM", day, locale=pick_lang(lang))


def weekday_initials(lang: str) -> list[str]:
    """Monday-first narrow weekday names for calendar headers."""
    names = Locale.parse(pick_lang(lang)).days["stand-alone"]["abbreviated"]
    return [names[i] for i in range(7)]
