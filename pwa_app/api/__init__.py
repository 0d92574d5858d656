"""The JSON API under /api/v1: the citizen pages' only data source."""

from fastapi import FastAPI

from pwa_app.api import v1


def create_api() -> FastAPI:
    api = FastAPI(
        title="Cita API",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    api.include_router(v1.router)
    return api
