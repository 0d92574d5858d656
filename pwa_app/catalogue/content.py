"""Content translations kept alive: which texts of the database are translated, marking translations "to review"
(stale) when their Spanish text changes, the side-by-side view staff edit, the per-language report of what is
missing or stale, and the gettext .po files a translation agency works on (export, then import back).

Plain Python; the staff service (pwa_app.staff.setup) checks permissions, audits and commits around it."""

import io
from collections import Counter

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po, write_po
from sqlmodel import Session, select

from pwa_app.common.errors import DomainError
from pwa_app.common.i18n import DEFAULT_LANG, LANGUAGES
from pwa_app.models import Area, Closure, ContentTranslation, Department, Office, Procedure, RequestType, Requirement

# Fields translated per table (ContentTranslation.table_name = the model's __tablename__).
TRANSLATABLE = {
    "area": ("name",),
    "office": ("name", "opening_hours", "accessibility"),
    "procedure": ("name", "summary", "description", "who_can_apply", "fee", "keywords"),
    "requirement": ("text", "note"),
    "closure": ("reason",),
    "department": ("name",),
    "requesttype": ("name", "description", "hint", "keywords"),
}
MODELS = {m.__tablename__: m for m in (Area, Office, Procedure, Requirement, Closure, Department, RequestType)}
TARGETS = tuple(lang for lang in LANGUAGES if lang != DEFAULT_LANG)
MAX_TEXT = 4000
MAX_PO = 2 * 1024 * 1024  # bytes; the demo's largest language is ~150 KB


class ContentError(DomainError):
    """A refused translation edit or file."""


def snapshot(obj) -> dict[str, str]:
    """The Spanish texts of a row's translated fields (taken before an edit, for `mark_stale`)."""
    return {f: getattr(obj, f) or "" for f in TRANSLATABLE.get(obj.__tablename__, ())}


def mark_stale(session: Session, obj, before: dict[str, str]) -> int:
    """After an edit of `obj`: its translations of every field whose Spanish text changed are to review."""
    changed = [f for f, old in before.items() if (getattr(obj, f) or "") != old]
    if not changed:
        return 0
    rows = session.exec(select(ContentTranslation).where(
        ContentTranslation.table_name == obj.__tablename__, ContentTranslation.row_id == obj.id,
        ContentTranslation.field.in_(changed), ContentTranslation.stale == False))  # noqa: E712
    count = 0
    for row in rows:
        row.stale, count = True, count + 1
        session.add(row)
    return count


def stale_count(session: Session, objs) -> int:
    """How many translations of these rows are to review."""
    count = 0
    for obj in objs:
        count += len(session.exec(select(ContentTranslation.id).where(
            ContentTranslation.table_name == obj.__tablename__, ContentTranslation.row_id == obj.id,
            ContentTranslation.stale == True)).all())  # noqa: E712
    return count


def _translations(session: Session, table: str | None = None, row_id: int | None = None, lang: str | None = None):
    query = select(ContentTranslation)
    if table is not None:
        query = query.where(ContentTranslation.table_name == table)
    if row_id is not None:
        query = query.where(ContentTranslation.row_id == row_id)
    if lang is not None:
        query = query.where(ContentTranslation.lang == lang)
    return {(r.table_name, r.row_id, r.field, r.lang): r for r in session.exec(query)}


def side_by_side(session: Session, obj) -> list[dict]:
    """Per translated field with a Spanish text: the Spanish and every other language's text and state."""
    table = obj.__tablename__
    found = _translations(session, table, obj.id)
    fields = []
    for field, spanish in snapshot(obj).items():
        if not spanish:
            continue
        langs = []
        for lang in TARGETS:
            row = found.get((table, obj.id, field, lang))
            langs.append({"lang": lang, "text": row.text if row else "", "stale": bool(row and row.stale)})
        fields.append({"field": field, "es": spanish, "langs": langs})
    return fields


def clean(text) -> str:
    value = str(text or "").replace("\r\n", "\n").strip()
    if len(value) > MAX_TEXT:
        raise ContentError({"form": "too_long"})
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ContentError({"form": "chars"})
    return value


def apply(session: Session, obj, texts: dict[tuple[str, str], str], confirmed: set[tuple[str, str]] = frozenset()
          ) -> Counter:
    """Write translations of `obj`: {(field, lang): text}. A changed text is saved and no longer to review; an
    unchanged one stays as it was unless (field, lang) is in `confirmed`; an empty one removes the translation."""
    table, counts = obj.__tablename__, Counter()
    found = _translations(session, table, obj.id)
    spanish = snapshot(obj)
    for (field, lang), raw in texts.items():
        if field not in spanish or lang not in TARGETS:
            raise ContentError({"form": "not_found"})
        text, row = clean(raw), found.get((table, obj.id, field, lang))
        if not text:
            if row is not None:
                session.delete(row)
                counts["removed"] += 1
            continue
        if row is None:
            row = ContentTranslation(table_name=table, row_id=obj.id, field=field, lang=lang, text=text)
            counts["added"] += 1
        elif row.text != text:
            row.text, row.stale = text, False
            counts["updated"] += 1
        elif row.stale and (field, lang) in confirmed:
            row.stale = False
            counts["confirmed"] += 1
        else:
            continue
        session.add(row)
    return counts


def _texts(session: Session):
    """(table, row, field, Spanish text) for every translated text of the database, in a stable order."""
    for table, fields in TRANSLATABLE.items():
        model = MODELS[table]
        for obj in session.exec(select(model).order_by(model.id)):
            for field in fields:
                if getattr(obj, field):
                    yield table, obj, field, getattr(obj, field)


def label(obj) -> str:
    """A short name for a row in staff lists."""
    text = getattr(obj, "name", None) or getattr(obj, "text", None) or getattr(obj, "reason", None) or ""
    return text if len(text) <= 70 else text[:69] + "…"


def report(session: Session) -> list[dict]:
    """Per language: how many texts are missing or to review, and which ones."""
    found = _translations(session)
    out = {lang: {"lang": lang, "total": 0, "missing": [], "stale": []} for lang in TARGETS}
    for table, obj, field, _ in _texts(session):
        for lang in TARGETS:
            row, entry = found.get((table, obj.id, field, lang)), out[lang]
            entry["total"] += 1
            item = {"table": table, "row_id": obj.id, "field": field, "label": label(obj)}
            if row is None:
                entry["missing"].append(item)
            elif row.stale:
                entry["stale"].append(item)
    return list(out.values())


def context(table: str, field: str, row_id: int) -> str:
    return f"{table}.{field}:{row_id}"


def export_po(session: Session, lang: str) -> bytes:
    """One language's texts as a gettext catalogue: msgctxt "table.field:row", msgid the Spanish, msgstr the
    translation (empty when missing), flagged fuzzy when to review; English as a comment to help the translator."""
    if lang not in TARGETS:
        raise ContentError({"lang": "not_found"})
    found, english = _translations(session, lang=lang), _translations(session, lang="en")
    catalog = Catalog(locale=lang, project="Cita content", fuzzy=False)
    for table, obj, field, spanish in _texts(session):
        row = found.get((table, obj.id, field, lang))
        hint = english.get((table, obj.id, field, "en")) if lang != "en" else None
        catalog.add(spanish, row.text if row else "", context=context(table, field, obj.id),
                    flags=("fuzzy",) if row is not None and row.stale else (),
                    auto_comments=[f"en: {hint.text}"] if hint else [])
    out = io.BytesIO()
    write_po(out, catalog, width=0, omit_header=False)
    return out.getvalue()


def _parse_context(ctx: str | None) -> tuple[str, str, int]:
    try:
        table_field, row = (ctx or "").rsplit(":", 1)
        table, field = table_field.split(".", 1)
        row_id = int(row)
    except ValueError:
        raise ContentError({"form": "po_context"}) from None
    if field not in TRANSLATABLE.get(table, ()):
        raise ContentError({"form": "po_context"})
    return table, field, row_id


def read(data: bytes):
    """The catalogue in an uploaded .po file; ContentError for anything that is not one of ours."""
    if len(data) > MAX_PO:
        raise ContentError({"form": "too_large"})
    if not data.strip():
        raise ContentError({"form": "po_invalid"})
    try:
        data.decode("utf-8")
        catalog = read_po(io.BytesIO(data), abort_invalid=True)
    except (PoFileError, UnicodeDecodeError, ValueError):
        raise ContentError({"form": "po_invalid"}) from None
    lang = str(catalog.locale) if catalog.locale else ""
    if lang not in TARGETS:
        raise ContentError({"form": "po_lang"})
    messages = [m for m in catalog if m.id]
    if not messages:
        raise ContentError({"form": "po_invalid"})
    return lang, [(m, *_parse_context(m.context)) for m in messages]


def import_po(session: Session, data: bytes) -> dict:
    """Apply an edited .po file: every translated, non-fuzzy message whose Spanish is still the current one is
    saved and no longer to review. Messages for a Spanish text changed since the export are skipped (counted)."""
    lang, messages = read(data)
    found, counts = _translations(session, lang=lang), Counter()
    rows = {}
    for message, table, field, row_id in messages:
        obj = rows.get((table, row_id)) or session.get(MODELS[table], row_id)
        rows[(table, row_id)] = obj
        text = clean(message.string if isinstance(message.string, str) else "")
        if obj is None or getattr(obj, field) != message.id:
            counts["outdated"] += 1
        elif not text or message.fuzzy:
            counts["untranslated" if not text else "fuzzy"] += 1
        else:
            row = found.get((table, row_id, field, lang))
            if row is None:
                session.add(ContentTranslation(table_name=table, row_id=row_id, field=field, lang=lang, text=text))
                counts["added"] += 1
            elif row.text != text or row.stale:
                row.text, row.stale = text, False
                session.add(row)
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
    return {"lang": lang, **{k: counts[k] for k in ("added", "updated", "unchanged", "fuzzy", "untranslated",
                                                   "outdated")}}
