"""Keep serving when a backend worker dies. Reflex 0.10 starts Granian's server itself without
`respawn_failed_workers`, and Granian then stops the whole app when any one worker exits unexpectedly (an
out-of-memory kill, a segfault in a C extension): every citizen gets a connection error until someone restarts
it. Measured with bench/load.py: SIGKILL to one of 4 workers stopped the app ("Unexpected exit from worker-2",
"Reflex app stopped"). With this, Granian starts a new worker in its place (it still gives up on a worker that
crashes again within a few seconds: a crash loop) and the other workers keep answering meanwhile.

`rxconfig.py` calls `respawn_failed_workers()`: Reflex reads it before it creates the server. Set
CITA_RESPAWN_WORKERS=0 to keep Granian's default.

The same server also waits for more connections at once (BACKLOG): at 9:00 thousands of phones connect within a
second, and with Granian's 1024 the connections beyond it were dropped and retried by the phones seconds later."""

from pwa_app.settings import get_settings

BACKLOG = 4096  # connections waiting to be accepted (Linux caps it at net.core.somaxconn: 4096 by default)


def respawn_failed_workers() -> bool:
    """Make Granian's Server default to respawning failed workers. True when in effect."""
    if not get_settings().respawn_workers:
        return False
    try:
        import granian.server as granian_server  # only when serving with Granian
    except ImportError:  # not serving with Granian
        return False
    base = granian_server.Server
    if getattr(base, "cita_respawns", False):
        return True

    class RespawningServer(base):
        cita_respawns = True

        def __init__(self, *args, **kwargs):
            kwargs.setdefault("respawn_failed_workers", True)
            kwargs.setdefault("backlog", BACKLOG)
            super().__init__(*args, **kwargs)

    RespawningServer.__name__ = RespawningServer.__qualname__ = base.__name__
    granian_server.Server = RespawningServer
    return True
