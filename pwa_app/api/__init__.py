"""The JSON API under /api/v1 (+ Open311 GeoReport v2 under /api/open311/v2)."""

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from pwa_app import proxy
from pwa_app.api import (
    appointments, fair, feedback, health, open311, privacy, push, service_requests, staff, validation,
)
from pwa_app.api.common import error, install_busy
from pwa_app.api.limits import BodyLimit


def not_found(rest: str):
    return error(404, {"path": "not_found_path"}, "es")


def create_api() -> FastAPI:
    api = FastAPI(
        title="Cita API",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url=None if proxy.production() else "/api/v1/docs",  # Swagger UI loads from a CDN: not in production
        redoc_url=None,
    )
    api.include_router(appointments.router)
    api.include_router(fair.router)
    api.include_router(service_requests.router)
    api.include_router(open311.router)
    api.include_router(staff.router)
    api.include_router(push.router)
    api.include_router(privacy.router)
    api.include_router(health.router)
    api.include_router(feedback.router)
    # Last: an address under /api that no route answers gets a small JSON 404 here, instead of falling through to
    # Reflex's app, which served the 404 HTML page from disk (and the security middleware hashed it) every time.
    api.add_api_route("/api/{rest:path}", not_found, methods=["GET", "HEAD"], include_in_schema=False)
    api.add_middleware(BodyLimit)
    # On a citizen's slow connection JSON shrinks ~10x: one office's free times are 85 KB raw, 5 KB gzipped
    # (level 6: half the CPU of level 9, 5% larger).
    api.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    validation.install(api)
    install_busy(api)
    return api
