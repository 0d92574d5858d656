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
LANGUAGES: dict[str, str] = {
    "es": "Español",
    "ca": "Català",
    "eu": "Euskara",
    "gl": "Galego",
    "en": "English",
    "fr": "Français",
    "ar": "العربية",
    "ro": "Română",
    "uk": "Українська",
    "zh": "中文",
}
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


def weekday_names(lang: str) -> list[tuple[str, str]]:
    """Monday-first (short, full) weekday names: short for calendar headers, full for screen readers."""
    days = Locale.parse(pick_lang(lang)).days["stand-alone"]
    return [(days["short"][i], days["wide"][i]) for i in range(7)]
