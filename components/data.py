"""The Python side of the client data module (assets/offline.js): hooks as Vars, exported functions as
event handlers. Both run in the browser only, so citizen pages keep working offline."""

import json
from typing import Any

from reflex_base.utils.imports import ImportVar
from reflex_base.vars.base import Var, VarData, get_unique_variable_name
from reflex_base.vars.function import FunctionVar

MODULE = "$/public/offline.js"


REQUESTS_MODULE = "$/public/requests.js"  # the request pages' part of the data module


def hook(name: str, *args: Any, var_type: type = dict, module: str = MODULE) -> Var:
    """The value of `name(*args)` from the data module, e.g. hook("useBooking", "es")."""
    var_name = get_unique_variable_name()
    call = f"{name}({', '.join(json.dumps(a) for a in args)})"
    return Var(
        var_name,
        _var_type=var_type,
        _var_data=VarData(imports={module: [ImportVar(tag=name)]}, hooks={f"const {var_name} = {call};": None}),
    ).guess_type()


def client_fn(name: str, module: str = MODULE) -> FunctionVar:
    """An exported function of the data module, usable as an event handler (it runs in the browser)."""
    return Var(name, _var_data=VarData(imports={module: [ImportVar(tag=name)]})).to(FunctionVar)


def page_const(value: Any, var_type: type = dict) -> Var:
    """A constant declared once in the page (e.g. the translated error messages), instead of inlining the literal
    at every place that reads it."""
    var_name = get_unique_variable_name()
    return Var(
        var_name,
        _var_type=var_type,
        _var_data=VarData(hooks={f"const {var_name} = {json.dumps(value, ensure_ascii=False)};": None}),
    ).guess_type()
