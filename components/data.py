"""The Python side of the client data module (assets/offline.js): hooks as Vars, exported functions as
event handlers. Both run in the browser only, so citizen pages keep working offline."""

import json
from typing import Any

from reflex_base.utils.imports import ImportVar
from reflex_base.vars.base import Var, VarData, get_unique_variable_name
from reflex_base.vars.function import FunctionVar

from pwa_app import db
from pwa_app.catalogue import published
from pwa_app.service_requests import views

MODULE = "$/public/offline.js"


REQUESTS_MODULE = "$/public/requests.js"  # the request pages' part of the data module


def hook(name: str, *args: Any, var_type: type = dict, module: str = MODULE) -> Var:
    """The value of `name(*args)` from the data module, e.g. hook("useBooking", "es"); an argument may be a
    page constant (`page_const`)."""
    var_name = get_unique_variable_name()
    call = f"{name}({', '.join(str(a) if isinstance(a, Var) else json.dumps(a) for a in args)})"
    own = VarData(imports={module: [ImportVar(tag=name)]}, hooks={f"const {var_name} = {call};": None})
    used = [a._get_all_var_data() for a in args if isinstance(a, Var)]
    return Var(var_name, _var_type=var_type, _var_data=VarData.merge(*used, own)).guess_type()


def client_fn(name: str, module: str = MODULE) -> FunctionVar:
    """An exported function of the data module, usable as an event handler (it runs in the browser)."""
    return Var(name, _var_data=VarData(imports={module: [ImportVar(tag=name)]})).to(FunctionVar)


# What the home page shows of the catalogue, baked into the page at build time (see `built_catalogue`).
HOME_FIELDS = ("slug", "name", "summary", "keywords", "needs_appointment", "area", "fallback", "untranslated")


def _at_build(read):
    """`read(session)` on the database as it is when the pages are built; None when it cannot be read then (a
    build without its database: the pages wait for the API, as they did before)."""
    try:
        with db.session() as session:
            return read(session)
    except Exception:  # noqa: BLE001
        return None


def built_catalogue(lang: str) -> dict | None:
    """The catalogue as it is when the pages are built, with its ETag: the home page renders it at once (in the
    prerendered HTML, before any script) and the data module revalidates it in the background, so a staff edit
    made after the build shows within seconds online."""
    full = _at_build(lambda s: (published.cached(s, lang), published.answer(s, lang).etag))
    return full and {"etag": full[1], "municipality": full[0]["municipality"], "areas": full[0]["areas"],
                     "procedures": [{k: p[k] for k in HOME_FIELDS if k in p} for p in full[0]["procedures"]]}


def built_request_types(lang: str) -> dict | None:
    """What can be sent (types, limits, status labels) as when the pages are built: the new-request form shows
    its first step at once, and the data module revalidates it like the catalogue."""
    return _at_build(lambda s: views.request_types(s, lang))


def page_const(value: Any, var_type: type = dict) -> Var:
    """A constant declared once in the page (e.g. the translated error messages), instead of inlining the literal
    at every place that reads it."""
    var_name = get_unique_variable_name()
    return Var(
        var_name,
        _var_type=var_type,
        _var_data=VarData(hooks={f"const {var_name} = {json.dumps(value, ensure_ascii=False)};": None}),
    ).guess_type()
