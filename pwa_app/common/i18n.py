"""Languages, gettext catalogues and locale formatting (babel). Source strings are English; Spanish is the default."""

from datetime import date, datetime
from functools import cache, lru_cache
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


def say(lang: str, message: str, **values) -> str:
    """`message` translated into `lang`, with its %(name)s placeholders filled in."""
    text = gettext(lang, message)
    return text % values if values else text


def text_direction(lang: str) -> str:
    return "rtl" if lang in RTL_LANGS else "ltr"


class Fallback(str):
    """A content text shown in Spanish for want of a translation: wherever it is written it keeps its own language
    and direction (a span lang="es" dir="ltr" in HTML, a Unicode isolate in plain text)."""


def isolate(text: str) -> str:
    """Plain text: a Spanish fallback inside another language's sentence is laid out on its own (U+2068 first
    strong isolate ... U+2069 pop directional isolate), so an Arabic line keeps its full stops where they belong."""
    return f"\u2068{text}\u2069" if isinstance(text, Fallback) else text


def local(moment: datetime) -> datetime:
    """A UTC datetime from the database as Madrid wall time (naive ones are taken as UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))).astimezone(TZ)


# Labels are cached: babel resolves a skeleton by scoring every pattern of the locale, and the availability
# answer labels each of its ~800 slots, which made those labels ~80% of its time (bench/load.py).
@lru_cache(maxsize=8192)
def day_label(day: date, lang: str) -> str:
    return format_skeleton("MMMMEEEEd", day, locale=pick_lang(lang))


def long_day_label(day: date, lang: str) -> str:
    return format_date(day, "full", locale=Locale.parse(pick_lang(lang)))


def time_label(dt: datetime, lang: str) -> str:
    return _time_label(dt.hour, dt.minute, pick_lang(lang))


@lru_cache(maxsize=4096)
def _time_label(hour: int, minute: int, lang: str) -> str:
    return format_time(datetime(2000, 1, 1, hour, minute), "HH:mm", locale=Locale.parse(lang))


@lru_cache(maxsize=4096)
def month_label(day: date, lang: str) -> str:
    return format_skeleton("yMMMM", day, locale=pick_lang(lang))


def weekday_names(lang: str) -> list[tuple[str, str]]:
    """Monday-first (short, full) weekday names: short for calendar headers, full for screen readers."""
    days = Locale.parse(pick_lang(lang)).days["stand-alone"]
    return [(days["short"][i], days["wide"][i]) for i in range(7)]
