"""GET /api/v1/health: is this worker able to serve? For load balancers and monitoring.

200 {"status": "ok", "database": "ok", "redis": "ok" | "not configured"} when the database answers (and Redis,
when REDIS_URL is set). Citizens need only the database: with Redis down the worker still serves them (rate limits
are counted per process meanwhile), so it answers 200 {"status": "degraded", "redis": "error"} — keep it in the
pool, alert on it. 503 {"status": "error", "database": "error"} only when the database does not answer. Each check
has a short timeout, the answer is never cached, and no error text (addresses, versions) is given away.
"""

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from pwa_app import db

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["health"])


def check_database() -> bool:
    try:
        with db.engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        log.warning("health: database check failed: %s", exc)
        return False


def check_redis() -> bool:
    try:
        return bool(db.redis().ping())
    except Exception as exc:  # noqa: BLE001
        log.warning("health: Redis check failed: %s", exc)
        return False


@router.get("/health", summary="Health: 200 while the database answers (status degraded when Redis does not), "
            "else 503",
            responses={200: {"description": "alive", "content": {"application/json": {"example": {
                "status": "degraded", "database": "ok", "redis": "error"}}}},
                       503: {"description": "the database does not answer", "content": {"application/json": {
                           "example": {"status": "error", "database": "error", "redis": "ok"}}}}})
def health() -> JSONResponse:
    checks = {"database": "ok" if check_database() else "error"}
    checks["redis"] = ("ok" if check_redis() else "error") if db.redis() is not None else "not configured"
    if checks["database"] == "error":
        status = "error"
    else:
        status = "degraded" if checks["redis"] == "error" else "ok"
    return JSONResponse({"status": status, **checks}, status_code=503 if status == "error" else 200,
                        headers={"Cache-Control": "no-store"})
