"""Requests the models refuse (a missing field, a text over its length, a wrong type) answer in the API's own
error shape instead of FastAPI's `{"detail": [...]}`, so the device outbox can show the citizen a reason:

    /api/v1/...        422 {"errors": {field: translated message}, "codes": {field: code}}   (code: required,
                       too_long or bad_request)
    /api/open311/v2/   400 [{"code": 400, "description": "field: message; ..."}]              (Open311's errors)

The OpenAPI document says so too: its 422 answers (FastAPI's HTTPValidationError) are described with this
shape, and Open311's as 400. Found by tests/unit/test_schemathesis.py: the 422 documented for the requests API
(`{"errors", "codes"}`) did not match what a malformed body really got.
"""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from pwa_app.common.i18n import gettext, pick_lang
from pwa_app.common.messages import ERRORS

OPEN311 = "/api/open311/"
LOCATIONS = {"body", "query", "path", "header", "cookie"}
CODES = {"missing": "required", "string_too_long": "too_long", "too_long": "too_long"}
ERROR_SCHEMA = {
    "title": "ValidationErrorOut",
    "type": "object",
    "required": ["errors", "codes"],
    "properties": {
        "errors": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "field -> translated message"},
        "codes": {"type": "object", "additionalProperties": {"type": "string"},
                  "description": "field -> code: required, too_long or bad_request"},
    },
}
OPEN311_ERRORS = {"type": "array", "items": {"type": "object", "required": ["code", "description"], "properties": {
    "code": {"type": "integer"}, "description": {"type": "string"}}}}


def _field(loc) -> str:
    parts = [str(p) for p in loc if str(p) not in LOCATIONS]
    return (parts[0] if parts else "request").replace("-", "_")


def refused(request: Request, exc: RequestValidationError) -> JSONResponse:
    lang = pick_lang(request.query_params.get("lang") or "es")
    codes: dict[str, str] = {}
    for problem in exc.errors():
        codes.setdefault(_field(problem.get("loc", ())), CODES.get(problem.get("type", ""), "bad_request"))
    if request.url.path.startswith(OPEN311):
        text = "; ".join(f"{f}: {gettext(lang, ERRORS[c])}" for f, c in codes.items())
        return JSONResponse([{"code": 400, "description": text}], status_code=400)
    messages = {f: gettext(lang, ERRORS[c]) for f, c in codes.items()}
    return JSONResponse({"errors": messages, "codes": codes}, status_code=422)


def install(api: FastAPI) -> None:
    async def handler(request: Request, exc: RequestValidationError) -> JSONResponse:
        return refused(request, exc)

    api.add_exception_handler(RequestValidationError, handler)
    build = api.openapi

    def openapi() -> dict:
        if api.openapi_schema:
            return api.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        if "HTTPValidationError" in components:
            components["HTTPValidationError"] = ERROR_SCHEMA
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith(OPEN311):
                continue
            for operation in operations.values():
                responses = operation.get("responses", {})
                if "422" in responses:
                    del responses["422"]
                    responses["400"] = {"description": "a parameter is missing or not valid",
                                        "content": {"application/json": {"schema": OPEN311_ERRORS}}}
        api.openapi_schema = schema
        return schema

    api.openapi = openapi
