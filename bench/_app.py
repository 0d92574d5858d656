"""What the benchmarks share: the app as README command 1 serves it (migrated, seeded, `reflex run --env prod
--single-port` on a free port, which rebuilds `.web/build`), stopped with everything it started, and percentiles."""

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import free_port  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def start_app(log_path: Path, database_url: str, host: str = "localhost", **env: str) -> tuple[subprocess.Popen, str]:
    """Migrates and seeds `database_url`, then serves the app on a free port; Redis only if REDIS_URL is given."""
    port = free_port()
    base = f"http://{host}:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        "DATABASE_URL": database_url,
        "REFLEX_API_URL": base,
        "REFLEX_CHECK_LATEST_VERSION": "0",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        **env,
    }
    for step in (["reflex", "db", "migrate"], ["pwa_app.seed"]):
        subprocess.run([sys.executable, "-m", *step], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
             "--frontend-port", str(port), "--backend-port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    return proc, base


def stop_app(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]
