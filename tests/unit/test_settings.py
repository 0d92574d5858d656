"""One typed Settings (pwa_app/settings.py): the README's Configuration table is made from it, the README names no
variable the app does not read, the app reads its environment nowhere else, and tests change it in one place."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pwa_app import settings
from pwa_app import retention
from pwa_app.common import ratelimit
from pwa_app.settings import get_settings
from tests.unit.conftest import override_settings

ROOT = Path(__file__).resolve().parents[2]
# Read by the test suite, scripts and benchmarks, never by the app (README, Tests; bench/README.md).
NOT_THE_APPS = {"CITA_E2E_DB", "CITA_E2E_LIMITS", "CITA_TEST_WALL_CLOCK", "CITA_BENCH_POSTGRES_URL",
                "CITA_BENCH_TOOLS"}
VARIABLE = re.compile(r"\bCITA_[A-Z0-9_]*[A-Z0-9]\b")


def test_the_readme_table_is_the_one_made_from_the_settings():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index(settings.BEGIN) + len(settings.BEGIN):text.index(settings.END)]
    assert block == settings.readme_table() + "\n", "run: .venv/bin/python -m pwa_app.settings --readme"


def test_every_field_has_a_description_and_a_variable():
    for name, field in settings.Settings.model_fields.items():
        assert field.description and len(field.description) > 10, name
        assert name in settings.variables() or name in ("rates", "outbound_proxy"), name


@pytest.mark.parametrize("doc", ["README.md", "bench/README.md"])
def test_the_docs_name_only_variables_that_are_read(doc):
    known = set(settings.variables().values()) | NOT_THE_APPS
    scopes = {f"CITA_RATE_{scope.upper()}" for scope in ratelimit.DEFAULTS}
    named = set(VARIABLE.findall((ROOT / doc).read_text(encoding="utf-8")))
    assert named - known - scopes == set()


def test_the_app_reads_its_environment_only_through_the_settings():
    found = subprocess.run(["grep", "-rlE", r"os\.environ|getenv", "pwa_app", "components", "state", "rxconfig.py"],
                           cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert found == ["pwa_app/settings.py"]


def test_settings_are_read_once_and_typed(monkeypatch):
    assert get_settings() is get_settings()
    monkeypatch.setenv("CITA_HOLD_MINUTES", "3")
    assert get_settings().hold_minutes != 3  # a variable changed later is not seen without override_settings
    changed = override_settings(monkeypatch, CITA_HOLD_MINUTES="3", CITA_SMTP_STARTTLS="0", CITA_RATE_LOOKUP="2/60",
                                CITA_SMTP_PORT="")
    assert (changed.hold_minutes, changed.smtp_starttls, changed.smtp_port) == (3.0, False, 587)  # empty: unset
    assert get_settings() is changed and ratelimit.limit_for("lookup").amount == 2


def test_a_bad_value_is_refused_when_the_settings_are_read(monkeypatch):
    with pytest.raises(ValueError, match="CITA_AUDIT_DAYS"):
        override_settings(monkeypatch, CITA_AUDIT_DAYS="0")
    with pytest.raises(ValueError, match="CITA_DB_POOL_SIZE"):
        override_settings(monkeypatch, CITA_DB_POOL_SIZE="many")


def test_a_command_line_option_wins_over_its_variable(monkeypatch):
    override_settings(monkeypatch, CITA_RETENTION_DAYS="200")
    monkeypatch.setattr(settings, "_current", settings.get_settings())  # put back at the end of the test
    settings.override(retention_days=30)
    assert retention.retention_days() == 30 and retention.period("attachments") == 30


def test_a_fresh_process_reads_its_own_environment():
    code = "from pwa_app.settings import get_settings; s = get_settings(); print(s.hold_minutes, s.rates)"
    env = {"PATH": "/usr/bin:/bin", "CITA_HOLD_MINUTES": "4", "CITA_RATE_LOOKUP": "5/60"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "4.0 {'lookup': '5/60'}"
