"""A content text without a translation falls back to Spanish and keeps its own language and direction everywhere
it is shown: the catalogue names the fields, mails wrap them in lang="es" dir="ltr", plain texts isolate them."""

from sqlmodel import delete, select

from pwa_app.appointments.booking import book
from pwa_app.catalogue import published
from pwa_app.common.i18n import Fallback, isolate
from pwa_app.models import ContentTranslation, Procedure
from pwa_app.notifications import push_fanout
from tests.unit.test_fairness import OAC, PADRON, dni, person
from tests.unit.test_mail import first_free, folder, mails, parsed  # noqa: F401  (fixture)

SPANISH_NAME = "Alta en el padrón (empadronamiento)"


def untranslate(session, field: str, lang: str = "ar") -> Procedure:
    """Staff wrote a new Spanish text and nobody has translated it yet."""
    padron = session.exec(select(Procedure).where(Procedure.slug == PADRON)).one()
    session.exec(delete(ContentTranslation).where(
        ContentTranslation.table_name == "procedure", ContentTranslation.row_id == padron.id,
        ContentTranslation.field == field, ContentTranslation.lang == lang))
    session.commit()
    return padron


def test_the_catalogue_names_the_fields_shown_in_spanish(session):
    untranslate(session, "description")
    [row] = [p for p in published.catalogue(session, "ar")["procedures"] if p["slug"] == PADRON]
    assert row["untranslated"] == ["description"] and row["fallback"] is True
    assert isinstance(row["description"], Fallback) and row["description"].startswith("El padrón")
    assert not isinstance(row["name"], Fallback) and row["name"].startswith("التسجيل")
    assert all(not p["untranslated"] for p in published.catalogue(session, "zh")["procedures"])


def test_a_spanish_name_in_an_arabic_mail_keeps_its_language_and_direction(session, clock, folder):  # noqa: F811
    untranslate(session, "name")
    slot = first_free(session, PADRON, OAC, clock)
    book(session, PADRON, OAC, slot.starts_at, person(lang="ar", document=dni(140)), now=clock.now)
    session.commit()
    msg = parsed(mails(session)[-1])
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert f'<span lang="es" dir="ltr">{SPANISH_NAME}</span>' in html and 'dir="rtl"' in html
    assert f"\u2068{SPANISH_NAME}\u2069" in text and f"\u2068{SPANISH_NAME}\u2069" in msg["Subject"]


def test_push_texts_isolate_a_spanish_name(session):
    padron = untranslate(session, "name")
    names = push_fanout._Names(session)
    assert names.name(padron, "ar") == f"\u2068{SPANISH_NAME}\u2069"
    assert "\u2068" not in names.name(padron, "zh")  # translated: nothing to isolate
    assert isolate("texto") == "texto"
