"""Reflex configuration. SQLite and one process by default; PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set."""

import reflex as rx
from reflex_base.plugins.sitemap import SitemapPlugin

from pwa_app.models import Appointment
from pwa_app.pwa import NoMemoPlugin, PwaPlugin
from pwa_app.security import public_origin
from pwa_app.serving import respawn_failed_workers
from pwa_app.settings import get_settings

respawn_failed_workers()  # one dead backend worker must not stop the app (see pwa_app/serving.py)
# Reflex compares its registered models with the database at start and in `reflex db makemigrations`: one table
# model brings the whole SQLModel metadata (unregistered, every table looked removed: "Detected database schema
# changes" at each start, and makemigrations would have written a migration dropping them all).
rx.ModelRegistry.register(Appointment)

config = rx.Config(
    app_name="pwa_app",
    db_url=get_settings().database_url,
    redis_url=get_settings().redis_url,
    # CORS on the API and the websocket's allowed origins: only our own pages (Reflex's default "*" answered any
    # site's script, with the staff cookie).
    cors_allowed_origins=[public_origin()],
    telemetry_enabled=False,
    show_built_with_reflex=False,
    frontend_compression_formats=["brotli", "gzip"],
    frontend_packages=["idb@8.0.3"],
    plugins=[PwaPlugin(), NoMemoPlugin()],
    disable_plugins=[SitemapPlugin],
)
