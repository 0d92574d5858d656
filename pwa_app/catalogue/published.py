"""The procedure catalogue as the citizen pages read it, per language, with per-row content translations
falling back to Spanish (flagged, so the page can say so).

It is built once per language and kept until staff change it. With several workers (REDIS_URL) a version counter
in Redis tells every worker that its copy is old; one process alone keeps the counter in memory."""

import gzip
import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, select

from pwa_app import db
from pwa_app.common.i18n import DEFAULT_LANG, Fallback
from pwa_app.models import Area, ContentTranslation, Municipality, Office, Procedure, ProcedureOffice, Requirement

log = logging.getLogger(__name__)
VERSION_KEY = "cita:catalogue-version"
_cache: dict[str, tuple[str | None, tuple[dict, "Answer"]]] = {}  # lang -> (version, (catalogue, answer))
_local_version = 0

OFFICE_FIELDS = ("slug", "name", "address", "opening_hours", "accessibility", "map_url", "phone")
PROCEDURE_FIELDS = (
    "slug", "name", "summary", "description", "who_can_apply", "fee", "duration_minutes",
    "needs_appointment", "online_url", "requires_document", "keywords", "high_demand",
)
TRANSLATED = {"name", "summary", "description", "who_can_apply", "fee", "opening_hours", "accessibility",
              "text", "note", "keywords"}


class Translator:
    """Looks up a row's field in one language; remembers whether anything fell back to Spanish (no translation,
    or one to review)."""

    def __init__(self, session: Session, lang: str):
        self.lang, self.texts = lang, {}
        if lang != DEFAULT_LANG:
            # A translation to review (its Spanish changed since) is not shown: the Spanish is, with the note.
            rows = session.exec(select(ContentTranslation).where(
                ContentTranslation.lang == lang, ContentTranslation.stale == False))  # noqa: E712
            self.texts = {(r.table_name, r.row_id, r.field): r.text for r in rows}

    def row(self, obj, fields) -> dict:
        """The fields in this language; `untranslated` names those shown in Spanish (values marked `Fallback`)."""
        out, untranslated = {}, []
        for name in fields:
            value = getattr(obj, name)
            if name in TRANSLATED and self.lang != DEFAULT_LANG and value:
                found = self.texts.get((obj.__tablename__, obj.id, name))
                if found is None:
                    untranslated.append(name)
                value = Fallback(value) if found is None else found
            out[name] = value
        out["fallback"], out["untranslated"] = bool(untranslated), untranslated
        return out


def catalogue(session: Session, lang: str) -> dict:
    t = Translator(session, lang)
    areas = {a.id: a for a in session.exec(select(Area).order_by(Area.position))}
    offices = {o.id: o for o in session.exec(select(Office).order_by(Office.id))}
    requirements, links = defaultdict(list), defaultdict(list)
    for r in session.exec(select(Requirement).order_by(Requirement.procedure_id, Requirement.position)):
        requirements[r.procedure_id].append({"id": r.id, **t.row(r, ("text", "note", "optional"))})
    for link in session.exec(select(ProcedureOffice)):
        links[link.procedure_id].append(offices[link.office_id].slug)
    procedures = []
    for p in session.exec(select(Procedure).order_by(Procedure.name)):
        row = t.row(p, PROCEDURE_FIELDS)
        row.update(area=areas[p.area_id].slug, requirements=requirements[p.id], offices=sorted(links[p.id]))
        row["fallback"] |= any(r["fallback"] for r in row["requirements"])
        procedures.append(row)
    town = session.exec(select(Municipality)).first()
    return {
        "lang": lang,
        "municipality": {"name": town.name, "phone": town.phone, "website": town.website} if town else {},
        "areas": [{"slug": a.slug, **t.row(a, ("name",))} for a in areas.values()],
        "offices": [t.row(o, OFFICE_FIELDS) for o in offices.values()],
        "procedures": procedures,
    }


def _version() -> str | None:
    """The catalogue's current version; None when Redis does not answer (then any copy will do)."""
    client = db.redis()
    if client is None:
        return str(_local_version)
    try:
        return (client.get(VERSION_KEY) or b"0").decode()
    except Exception as exc:  # noqa: BLE001 - a stale catalogue beats no catalogue
        log.warning("catalogue version unknown, Redis unavailable: %s", exc)
        return None


def cached(session: Session, lang: str) -> dict:
    return _kept(session, lang)[0]


@dataclass(frozen=True)
class Answer:
    """The catalogue as the API sends it: JSON bytes gzipped once, with their ETag (the same for every worker)."""

    etag: str
    gz: bytes


def answer(session: Session, lang: str) -> Answer:
    """The API's answer for a language, built once per catalogue version: the rush's first visits do not each
    serialise and compress ~100 KB of JSON."""
    return _kept(session, lang)[1]


def _kept(session: Session, lang: str) -> tuple[dict, Answer]:
    version, kept = _version(), _cache.get(lang)
    if kept and (version is None or kept[0] == version):
        return kept[1]
    built = catalogue(session, lang)
    raw = json.dumps(built, ensure_ascii=False, separators=(",", ":")).encode()
    pair = (built, Answer('"' + hashlib.sha256(raw).hexdigest()[:32] + '"', gzip.compress(raw, 6, mtime=0)))
    _cache[lang] = (version, pair)
    return pair


def changed() -> None:
    """Staff changed the catalogue: every worker rebuilds its copy on its next request."""
    global _local_version
    _local_version += 1
    _cache.clear()
    client = db.redis()
    if client is not None:
        try:
            client.incr(VERSION_KEY)
        except Exception as exc:  # noqa: BLE001
            log.warning("other workers keep the old catalogue, Redis unavailable: %s", exc)
