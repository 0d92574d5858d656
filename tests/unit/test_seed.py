"""The demo seed: a believable town hall, complete, translated and idempotent."""

from datetime import date, time

import pytest
from sqlmodel import SQLModel, Session, create_engine, func, select

from pwa_app import models
from pwa_app.common import i18n
from pwa_app.models import (
    Area, Closure, ContentTranslation, Department, Municipality, Office, Procedure, ProcedureOffice, RequestType,
    Requirement, Schedule,
)
from pwa_app.seed import CONTENT_PO, LANGUAGES, OFFICES, PO_LANGUAGES, TRANSLATABLE, seed_demo, write_template

TABLES = [Municipality, Area, Office, Procedure, Requirement, ProcedureOffice, Schedule, Closure, ContentTranslation]


@pytest.fixture
def session(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'seed.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        assert seed_demo(session) is True
        yield session
    engine.dispose()


def _all(session, model):
    return session.exec(select(model)).all()


def test_one_municipality_in_madrid(session):
    (town,) = _all(session, Municipality)
    assert town.timezone == "Europe/Madrid" and town.region == "MD"
    assert town.phone and town.website


def test_procedures_spread_over_areas(session):
    procedures = _all(session, Procedure)
    assert len(procedures) >= 15
    assert len({p.area_id for p in procedures}) >= 4
    assert len({p.slug for p in procedures}) == len(procedures)
    for p in procedures:
        assert p.name and p.summary and p.description and p.who_can_apply and p.fee and p.keywords
        assert 10 <= p.duration_minutes <= 30
        if not p.needs_appointment:
            assert p.online_url.startswith("https://sede.villanuevadelpinar.es/")


def test_every_procedure_has_a_checklist(session):
    for p in _all(session, Procedure):
        requirements = session.exec(select(Requirement).where(Requirement.procedure_id == p.id)).all()
        assert len(requirements) >= 3, p.slug
        assert sorted(r.position for r in requirements) == list(range(1, len(requirements) + 1))


def test_three_offices(session):
    offices = _all(session, Office)
    assert len(offices) == 3
    for o in offices:
        assert o.address and o.opening_hours and o.accessibility and o.phone
        assert o.map_url.startswith("https://www.openstreetmap.org/")


def test_every_procedure_is_handled_somewhere_and_bookable_where_it_needs_appointments(session):
    links = {(link.procedure_id, link.office_id) for link in _all(session, ProcedureOffice)}
    schedules = _all(session, Schedule)
    for p in _all(session, Procedure):
        assert any(pid == p.id for pid, _ in links), p.slug
        scheduled = {s.office_id for s in schedules if s.procedure_id == p.id}
        if p.needs_appointment:
            assert scheduled, p.slug
        else:
            assert not scheduled, p.slug
    assert all((s.procedure_id, s.office_id) in links for s in schedules)


def test_schedules_lie_within_the_office_hours(session):
    office_hours = {o["slug"]: o["hours"] for o in OFFICES}
    slugs = {o.id: o.slug for o in _all(session, Office)}
    for s in _all(session, Schedule):
        assert time(8, 0) <= s.opens < s.closes <= time(20, 0)
        assert 0 <= s.weekday <= 4
        assert 10 <= s.slot_minutes <= 30 and 1 <= s.capacity <= 3
        assert any(s.weekday in days and opens <= s.opens and s.closes <= closes
                   for days, opens, closes in office_hours[slugs[s.office_id]])


def test_holidays_and_office_closure(session):
    closures = _all(session, Closure)
    holidays = {c.day for c in closures if c.office_id is None}
    for day in [date(2026, 12, 25), date(2027, 1, 6), date(2026, 4, 2), date(2026, 4, 3), date(2027, 3, 26),
                date(2026, 5, 1), date(2027, 12, 8)]:
        assert day in holidays, day
    assert len(holidays) >= 28
    assert any(c.office_id is not None for c in closures)
    assert all(c.reason for c in closures)


CONTENT_MODELS = [Procedure, Requirement, Area, Office, Closure, Department, RequestType]


def test_content_exists_in_every_language_of_the_interface():
    assert {"es", *LANGUAGES} == set(i18n.LANGUAGES)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("model", CONTENT_MODELS)
def test_every_content_text_is_translated(session, model, lang):
    table = model.__tablename__
    translated = {
        (t.row_id, t.field)
        for t in session.exec(select(ContentTranslation).where(
            ContentTranslation.table_name == table, ContentTranslation.lang == lang))
    }
    for row in _all(session, model):
        for field in TRANSLATABLE[table]:
            if getattr(row, field):
                assert (row.id, field) in translated, (table, row.id, field)


def test_seeding_twice_inserts_nothing(session):
    def counts():
        return [session.exec(select(func.count()).select_from(m)).one() for m in TABLES]

    before = counts()
    assert seed_demo(session) is False
    assert counts() == before


def test_translatable_tables_match_the_models():
    tables = {m.__tablename__: m for m in vars(models).values() if hasattr(m, "__tablename__")}
    for table, fields in TRANSLATABLE.items():
        assert set(fields) <= set(tables[table].model_fields), table


def test_a_missing_translation_stops_the_seed(tmp_path, monkeypatch):
    from pwa_app import seed

    untranslated = [dict(seed.AREAS[0], en={})] + seed.AREAS[1:]
    monkeypatch.setattr(seed, "AREAS", untranslated)
    engine = create_engine(f"sqlite:///{tmp_path / 'bad.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session, pytest.raises(ValueError, match="area"):
        seed.seed_demo(session)
    engine.dispose()


def test_the_content_template_matches_the_demo_data(tmp_path):
    """locales/content/content.pot is what translators get: regenerate it (`python -m pwa_app.seed pot`) when the
    Spanish texts change, then update the catalogues."""
    from babel.messages.pofile import read_po

    def texts(path):
        with open(path, "rb") as f:
            return {(m.context, m.id) for m in read_po(f) if m.id}

    write_template(tmp_path / "content.pot")
    assert texts(tmp_path / "content.pot") == texts(CONTENT_PO / "content.pot")


@pytest.mark.skipif(not PO_LANGUAGES, reason="no content catalogue")
def test_a_text_missing_from_a_content_catalogue_stops_the_seed(tmp_path, monkeypatch):
    from pwa_app import seed

    lang = PO_LANGUAGES[0]
    monkeypatch.setattr(seed, "AREAS", [dict(seed.AREAS[0], name="Un área que nadie tradujo")] + seed.AREAS[1:])
    engine = create_engine(f"sqlite:///{tmp_path / 'bad.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session, pytest.raises(ValueError, match=f"area .*{lang!r}"):
        seed.seed_demo(session)
    engine.dispose()
