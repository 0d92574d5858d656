"""The JSON API under /api/v1 (+ Open311 GeoReport v2 under /api/open311/v2)."""

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from pwa_app.api import fair, feedback, health, open311, privacy, push, requests, staff, v1, validation
from pwa_app.api.common import install_busy
from pwa_app.api.limits import BodyLimit


def create_api() -> FastAPI:
    api = FastAPI(
        title="Cita API",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    api.include_router(v1.router)
    api.include_router(fair.router)
    api.include_router(requests.router)
    api.include_router(open311.router)
    api.include_router(staff.router)
    api.include_router(push.router)
    api.include_router(privacy.router)
    api.include_router(health.router)
    api.include_router(feedback.router)
    api.add_middleware(BodyLimit)
    # On a citizen's slow connection JSON shrinks ~10x: one office's free times are 85 KB raw, 5 KB gzipped
    # (level 6: half the CPU of level 9, 5% larger).
    api.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    validation.install(api)
    install_busy(api)
    return api
