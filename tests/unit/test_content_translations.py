"""Staff keep the content translations alive: a Spanish edit marks the other languages to review (citizens then
get the Spanish with the note), the side-by-side edit confirms or updates them, the report counts what is missing
or stale per language, and the .po export -> edit -> import round trip (service and staff API)."""

import io

import pytest
from babel.messages.pofile import read_po, write_po
from sqlmodel import Session, select

from pwa_app.catalogue import content, published
from pwa_app.models import AuditEvent, ContentTranslation, Procedure, Requirement
from pwa_app.staff import setup
from pwa_app.staff.permissions import Forbidden, StaffError
from tests.unit.test_staff_auth import PASSWORD, client, people, staff_env  # noqa: F401  (fixtures)
from tests.unit.test_staff_services import procedure, v, viewers  # noqa: F401  (fixtures)
from tests.unit.conftest import override_settings

PADRON = "alta-padron"


def translations(session, obj, field, stale=None) -> dict[str, ContentTranslation]:
    query = select(ContentTranslation).where(ContentTranslation.table_name == obj.__tablename__,
                                             ContentTranslation.row_id == obj.id, ContentTranslation.field == field)
    return {r.lang: r for r in session.exec(query) if stale is None or r.stale == stale}


def edit_summary(session, viewer, proc, summary: str) -> None:
    setup.save_procedure(session, viewer, proc.id, {"summary": summary})
    session.commit()


def shown(session, lang: str, slug: str = PADRON) -> dict:
    return next(p for p in published.catalogue(session, lang)["procedures"] if p["slug"] == slug)


def test_a_spanish_edit_marks_only_that_fields_translations_to_review(session, v):
    proc = procedure(session)
    assert not translations(session, proc, "summary", stale=True)
    edit_summary(session, v["admin"], proc, proc.summary + " Trae también tu contrato.")
    stale = translations(session, proc, "summary", stale=True)
    assert set(stale) == set(content.TARGETS)  # all nine other languages
    assert not translations(session, proc, "name", stale=True)  # the name did not change
    # saving again with the same Spanish changes nothing more
    setup.save_procedure(session, v["admin"], proc.id, {"name": proc.name})
    session.commit()
    assert not translations(session, proc, "name", stale=True)


def test_citizens_see_the_spanish_with_the_note_while_a_translation_is_to_review(session, v):
    proc = procedure(session)
    before = shown(session, "en")
    assert before["fallback"] is False
    new_summary = "Inscribirse en el padrón al llegar al municipio (texto nuevo)."
    edit_summary(session, v["admin"], proc, new_summary)
    after = shown(session, "en")
    assert after["summary"] == new_summary and after["fallback"] is True
    assert after["name"] == before["name"]  # the rest stays in English
    assert shown(session, "es")["fallback"] is False


def test_a_requirement_and_an_office_edit_mark_their_translations(session, v):
    proc = procedure(session)
    req = setup.requirements(session, proc.id)[0]
    setup.save_requirement(session, v["admin"], proc.id, req.id, {"text": req.text + " (original)", "note": req.note})
    session.commit()
    assert set(translations(session, req, "text", stale=True)) == set(content.TARGETS)
    assert shown(session, "uk")["fallback"] is True
    office = setup.offices(session, v["admin"])[0]
    setup.save_office(session, v["admin"], office.id, {"opening_hours": "De lunes a viernes, de 9:00 a 13:00"})
    session.commit()
    assert set(translations(session, office, "opening_hours", stale=True)) == set(content.TARGETS)
    assert not translations(session, office, "name", stale=True)


def test_staff_confirm_or_update_translations_side_by_side(session, v):
    proc = procedure(session)
    edit_summary(session, v["admin"], proc, "Resumen nuevo del alta en el padrón.")
    fields = {f["field"]: f for f in content.side_by_side(session, proc)}
    assert fields["summary"]["es"] == "Resumen nuevo del alta en el padrón."
    assert all(entry["stale"] for entry in fields["summary"]["langs"])
    french, romanian = (translations(session, proc, "summary")[lang].text for lang in ("fr", "ro"))
    counts = setup.save_translations(session, v["admin"], "procedure", proc.id, {
        ("summary", "en"): "New summary of registering on the padrón.",  # updated
        ("summary", "fr"): french,  # unchanged and confirmed
        ("summary", "ro"): romanian,  # unchanged, not confirmed: stays to review
    }, confirmed={("summary", "fr")})
    session.commit()
    assert counts == {"updated": 1, "confirmed": 1}
    stale = translations(session, proc, "summary", stale=True)
    assert "en" not in stale and "fr" not in stale and "ro" in stale
    assert shown(session, "en")["summary"] == "New summary of registering on the padrón."
    assert shown(session, "en")["fallback"] is False
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "translation.save")).one()
    assert event.target == f"procedure:{proc.id}"


def test_only_administrators_edit_translations_and_bad_text_stores_nothing(session, v):
    proc = procedure(session)
    with pytest.raises(Forbidden):
        setup.save_translations(session, v["manager"], "procedure", proc.id, {("name", "en"): "x"})
    with pytest.raises(StaffError) as refused:
        setup.save_translations(session, v["admin"], "procedure", proc.id, {("name", "en"): "a\x00b"})
    assert refused.value.errors == {"form": "chars"}
    with pytest.raises(StaffError):
        setup.save_translations(session, v["admin"], "procedure", proc.id, {("slug", "en"): "x"})
    with pytest.raises(StaffError):
        setup.save_translations(session, v["admin"], "nothing", 1, {})


def test_the_report_lists_missing_and_stale_per_language(session, v):
    report = {r["lang"]: r for r in content.report(session)}
    assert set(report) == set(content.TARGETS)
    assert all(not r["missing"] and not r["stale"] for r in report.values())  # the demo is complete
    proc = procedure(session)
    edit_summary(session, v["admin"], proc, "Otro resumen.")
    setup.save_translations(session, v["admin"], "procedure", proc.id, {("name", "zh"): ""})  # removed
    session.commit()
    report = {r["lang"]: r for r in setup.translation_report(session, v["admin"])}
    item = {"table": "procedure", "row_id": proc.id, "field": "summary", "label": proc.name}
    assert all(report[lang]["stale"] == [item] for lang in content.TARGETS)
    assert report["zh"]["missing"] == [{**item, "field": "name"}]
    assert report["en"]["missing"] == []
    assert report["en"]["total"] == report["zh"]["total"] > 400


def po_of(data: bytes):
    return read_po(io.BytesIO(data))


def po_bytes(catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog)
    return out.getvalue()


def test_po_round_trip_export_edit_import(session, v):
    proc = procedure(session)
    edit_summary(session, v["admin"], proc, "Resumen cambiado para la agencia.")
    exported = po_of(setup.export_translations(session, v["admin"], "ar"))
    assert str(exported.locale) == "ar"
    summary = exported.get("Resumen cambiado para la agencia.", context=f"procedure.summary:{proc.id}")
    assert summary.fuzzy and summary.string  # the old translation, flagged to review
    name = exported.get(proc.name, context=f"procedure.name:{proc.id}")
    assert not name.fuzzy and name.string == translations(session, proc, "name")["ar"].text
    assert any(c.startswith("en: ") for c in name.auto_comments)
    # the agency translates the summary again and clears the flag
    summary.string, summary.flags = "ملخص جديد للتسجيل في البلدية.", set()
    counts = setup.import_translations(session, v["admin"], po_bytes(exported))
    session.commit()
    assert counts["lang"] == "ar" and counts["updated"] == 1 and counts["added"] == 0
    assert counts["unchanged"] > 400 and counts["fuzzy"] == counts["outdated"] == 0
    row = translations(session, proc, "summary")["ar"]
    assert row.text == "ملخص جديد للتسجيل في البلدية." and not row.stale
    assert shown(session, "ar")["fallback"] is False
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "translation.import")).one()
    # exported again, the file is the same as what was imported
    again = po_of(setup.export_translations(session, v["admin"], "ar"))
    assert again.get("Resumen cambiado para la agencia.", context=f"procedure.summary:{proc.id}").string == row.text


def test_import_skips_fuzzy_empty_and_outdated_messages(session, v):
    proc = procedure(session)
    exported = po_of(setup.export_translations(session, v["admin"], "fr"))
    name = exported.get(proc.name, context=f"procedure.name:{proc.id}")
    name.string = "Nouveau nom"
    name.flags = {"fuzzy"}
    edit_summary(session, v["admin"], proc, "Resumen cambiado después de exportar.")  # the file is now behind
    counts = setup.import_translations(session, v["admin"], po_bytes(exported))
    session.commit()
    assert counts["fuzzy"] == 1 and counts["outdated"] == 1
    assert translations(session, proc, "name")["fr"].text != "Nouveau nom"
    assert translations(session, proc, "summary")["fr"].stale  # still to review: the file had the old Spanish


def every_translation(session) -> set:
    return {(r.table_name, r.row_id, r.field, r.lang, r.text, r.stale) for r in session.exec(select(ContentTranslation))}


@pytest.mark.parametrize("data, code", [
    (b"", "po_invalid"),
    (b"\xff\xfe not utf-8", "po_invalid"),
    (b"Nombre;Name\nPadron;Register\n", "po_invalid"),  # a CSV
    (b'msgid ""\nmsgstr "Language: fr\\n"\n', "po_invalid"),  # no message
    (b'msgid ""\nmsgstr "Language: xx\\n"\n\nmsgctxt "procedure.name:1"\nmsgid "a"\nmsgstr "b"\n', "po_lang"),
    (b'msgid ""\nmsgstr "Language: fr\\n"\n\nmsgctxt "procedure.slug:1"\nmsgid "a"\nmsgstr "b"\n', "po_context"),
    (b'msgid ""\nmsgstr "Language: fr\\n"\n\nmsgid "a"\nmsgstr "b"\n', "po_context"),
    (b"#" * (content.MAX_PO + 1), "too_large"),
])
def test_a_malformed_file_is_refused_and_changes_nothing(session, v, data, code):
    before = every_translation(session)
    with pytest.raises(StaffError) as refused:
        setup.import_translations(session, v["admin"], data)
    session.rollback()
    assert refused.value.errors == {"form": code}
    assert every_translation(session) == before


def test_staff_api_exports_and_imports_with_a_session_only(client, people, staff_env):  # noqa: F811
    admin_token, desk_token = people["admin"][1], people["desk"][1]
    assert client.get("/api/staff/content/fr.po").status_code == 401
    client.cookies.set("cita_staff", desk_token)
    assert client.get("/api/staff/content/fr.po").status_code == 403
    client.cookies.set("cita_staff", admin_token)
    answer = client.get("/api/staff/content/fr.po")
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    assert client.get("/api/staff/content/xx.po").status_code == 404
    catalog = po_of(answer.content)
    with Session(staff_env) as s:
        proc = s.exec(select(Procedure).where(Procedure.slug == PADRON)).one()
        req = s.exec(select(Requirement).where(Requirement.procedure_id == proc.id)).first()
    catalog.get(req.text, context=f"requirement.text:{req.id}").string = "Pièce d'identité (nouvelle)"
    sent = client.post("/api/staff/content/import", files={"file": ("fr.po", po_bytes(catalog))},
                       headers={"Accept": "application/json"})
    assert sent.status_code == 200 and sent.json()["updated"] == 1, sent.text
    page = client.post("/api/staff/content/import", files={"file": ("fr.po", b"not a po")}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/staff/ajustes/traducciones/?error=po_invalid"
    page = client.post("/api/staff/content/import", files={"file": ("fr.po", po_bytes(catalog))},
                       follow_redirects=False)
    assert page.headers["location"].startswith("/staff/ajustes/traducciones/?lang=fr&added=0&updated=0")
    other = client.post("/api/staff/content/import", files={"file": ("fr.po", b"x")},
                        headers={"Origin": "https://evil.example", "Accept": "application/json"})
    assert other.status_code == 403
    with Session(staff_env) as s:
        assert s.exec(select(ContentTranslation).where(
            ContentTranslation.table_name == "requirement", ContentTranslation.row_id == req.id,
            ContentTranslation.lang == "fr", ContentTranslation.field == "text")).one().text == \
            "Pièce d'identité (nouvelle)"
    client.cookies.set("cita_staff", desk_token)
    assert client.post("/api/staff/content/import", files={"file": ("fr.po", b"x")}).status_code == 403


def test_the_import_endpoint_is_rate_limited(client, people, monkeypatch):  # noqa: F811
    override_settings(monkeypatch, CITA_RATE_CONTENT_IMPORT="3/600")
    client.cookies.set("cita_staff", people["admin"][1])
    codes = [client.post("/api/staff/content/import", files={"file": ("fr.po", b"x")},
                         headers={"Accept": "application/json", "X-Forwarded-For": "203.0.113.9"}).json()["codes"]
             for _ in range(6)]
    assert codes[:3] == [{"file": "po_invalid"}] * 3 and codes[3:] == [{"file": "rate"}] * 3
