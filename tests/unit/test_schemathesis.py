"""Property-based API robustness with schemathesis: every operation of /api/v1/openapi.json (the citizen API,
the requests API, Open311, the staff endpoints, health and privacy) is called with generated valid and invalid
data, in-process through the ASGI app over a temporary seeded SQLite file. No answer may be a 5xx, and every
answer must match its documented schema and content type.

Bounded: a few examples per operation (CITA_SCHEMATHESIS_EXAMPLES, default 10), no deadline per example, the whole
file in well under a minute. The proof of work and the rate limits are switched off for the run (they would
answer 428/429 before the code under test is reached).
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance
from sqlmodel import Session

from pwa_app import db
from pwa_app.api import create_api, fair
from pwa_app.catalogue import published
from pwa_app.common import ratelimit
from pwa_app.db import create_tables, make_engine
from pwa_app.seed import seed_demo
from tests.unit.conftest import override_settings

EXAMPLES = int(os.environ.get("CITA_SCHEMATHESIS_EXAMPLES", "10"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


APP = create_api()  # the database is reached only when a request comes: the fixture below picks it
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def seeded_database(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'cita.db'}"
    engine = make_engine(url)
    create_tables(engine)
    with Session(engine) as s:
        seed_demo(s)
    engine.dispose()
    patch = pytest.MonkeyPatch()
    scopes = ("LOOKUP", "OPEN311", "BOOKING", "BOOKING_PERSON", "BOOKING_BURST", "HOLD", "CHALLENGE", "APPOINTMENT",
              "VERIFIER_CODE", "VERIFIER_ADDRESS", "REQUEST", "HOLD_RELEASE", "OPEN311_POST", "OPEN311_KEY")
    override_settings(patch, DATABASE_URL=url, CITA_ALTCHA="off",
                      **{f"CITA_RATE_{scope}": "1000000/1" for scope in scopes})
    db.engine.cache_clear()
    published.changed()
    ratelimit.limiter.cache_clear()
    yield
    ratelimit.limiter.cache_clear()
    if db.engine.cache_info().currsize:
        db.engine().dispose()
    db.engine.cache_clear()
    published.changed()
    patch.undo()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_never_errors_and_matches_its_schema(case):
    case.call_and_validate(checks=CHECKS)
