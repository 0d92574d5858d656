"""The progressive web app: a Reflex plugin that builds the Workbox service worker after each production build."""

from pwa_app.pwa.plugin import NoMemoPlugin, PwaPlugin

__all__ = ["NoMemoPlugin", "PwaPlugin"]
