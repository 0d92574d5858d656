"""The staff second factor: TOTP enrolment (a first code confirms the secret), the code after the password (±1
step of drift, each step once), recovery codes (each once), wrong codes counting towards the soft lock-out, the
secret never stored in clear, administrators and managers kept to enrolment until they enrol, an administrator's
audited reset, and the two-step sign-in through the API."""

from datetime import timedelta

import pyotp
import pytest
from sqlmodel import select

from pwa_app.models import AuditEvent, StaffSession, StaffUser
from pwa_app.staff import accounts, permissions, second_factor
from pwa_app.staff import auth
from pwa_app.staff.auth import AuthError
from tests.unit.test_staff_auth import PASSWORD, TOTP_SECRET, client, make_admin, proof, staff_env  # noqa: F401

TOTP = pyotp.TOTP(TOTP_SECRET)


@pytest.fixture
def enrolled(session):
    """A front desk with the fixtures' secret enrolled (last used step: none)."""
    user = auth.create_user(session, "d@ayto.es", "D", "desk", PASSWORD, office_ids=[1])
    recovery = second_factor.set_second_factor(session, user, TOTP_SECRET)
    session.commit()
    return user, recovery


def code_step(session, clock, code: str, *, at=None, ip: str = "1.2.3.4"):
    """Password at the clock's time, then `code` (at `at`, default the same moment)."""
    token, viewer = auth.sign_in(session, "d@ayto.es", PASSWORD, ip=ip, now=clock.now)
    assert viewer is None and auth.viewer_for_token(session, token, now=clock.now) is None  # pending opens nothing
    return second_factor.confirm_second_factor(session, token, code, ip=ip, now=at or clock.now)


def test_enrolment_needs_a_matching_first_code_and_keeps_the_secret_sealed(session, clock):
    user = auth.create_user(session, "m@ayto.es", "M", "manager", PASSWORD, office_ids=[1])
    session.commit()
    assert auth.viewer_of(session, user).must_enrol
    secret = second_factor.new_totp_secret()
    with pytest.raises(AuthError, match="code"):
        second_factor.enrol(session, user, secret, "000000" if pyotp.TOTP(secret).at(clock.now) != "000000" else "111111",
                   now=clock.now)
    recovery = second_factor.enrol(session, user, secret, pyotp.TOTP(secret).at(clock.now), now=clock.now)
    session.commit()
    assert len(recovery) == auth.RECOVERY_CODES == len(set(recovery))
    stored = session.get(StaffUser, user.id)
    assert secret not in stored.totp_secret and second_factor.unseal(stored.totp_secret) == secret
    assert not any(code in stored.recovery_codes or code.replace("-", "") in stored.recovery_codes
                   for code in recovery)
    assert not auth.viewer_of(session, stored).must_enrol


def test_the_code_follows_the_password_with_one_step_of_drift_and_no_replay(session, clock, enrolled):
    step = 30
    token, viewer = code_step(session, clock, TOTP.at(clock.now))
    assert viewer.email == "d@ayto.es" and auth.viewer_for_token(session, token, now=clock.now)
    with pytest.raises(AuthError, match="code"):  # the same code again (say, seen over a shoulder): refused
        code_step(session, clock, TOTP.at(clock.now))
    # A phone a step ahead is fine; once a step is used, an older one is not.
    assert code_step(session, clock, TOTP.at(clock.now + timedelta(seconds=step)))[1]
    with pytest.raises(AuthError, match="code"):
        code_step(session, clock, TOTP.at(clock.now - timedelta(seconds=step)), at=clock.now)
    later = clock.now + timedelta(minutes=3)
    assert code_step(session, clock.moved(minutes=3), TOTP.at(later - timedelta(seconds=step)), at=later)[1]
    with pytest.raises(AuthError, match="code"):  # two steps away: refused
        code_step(session, clock.moved(minutes=5), TOTP.at(later + timedelta(minutes=2, seconds=2 * step)))


def test_a_recovery_code_signs_in_once(session, clock, enrolled):
    _user, recovery = enrolled
    assert code_step(session, clock, recovery[0].lower().replace("-", " "))[1]  # typed loosely
    with pytest.raises(AuthError, match="code"):
        code_step(session, clock, recovery[0])
    assert code_step(session, clock, recovery[1])[1]
    assert len(session.get(StaffUser, _user.id).recovery_codes.split()) == auth.RECOVERY_CODES - 2


def test_wrong_codes_count_towards_the_soft_lock_out(session, clock, enrolled):
    now = clock.now
    for i in range(auth.ACCOUNT_FAILURES):
        token, _ = auth.sign_in(session, "d@ayto.es", PASSWORD, proof=proof(), now=now)
        with pytest.raises(AuthError, match="code"):
            second_factor.confirm_second_factor(session, token, "12345" + str(i), proof=proof(), now=now)
        now += timedelta(seconds=1)
    with pytest.raises(AuthError) as exc:  # the next try, even with the password, waits
        auth.sign_in(session, "d@ayto.es", PASSWORD, proof=proof(), now=now)
    assert exc.value.code == "slow"
    failed = session.exec(select(AuditEvent).where(AuditEvent.action == "auth.second_factor_failed")).all()
    assert len(failed) == auth.ACCOUNT_FAILURES
    now += timedelta(seconds=2)
    token, _ = auth.sign_in(session, "d@ayto.es", PASSWORD, proof=proof(), now=now)
    assert second_factor.confirm_second_factor(session, token, TOTP.at(now), proof=proof(), now=now)[1]


def test_the_password_step_expires(session, clock, enrolled):
    token, _ = auth.sign_in(session, "d@ayto.es", PASSWORD, now=clock.now)
    later = clock.now + timedelta(minutes=auth.PENDING_MINUTES)
    with pytest.raises(AuthError, match="expired"):
        second_factor.confirm_second_factor(session, token, TOTP.at(later), now=later)
    assert session.exec(select(StaffSession)).first() is None
    with pytest.raises(AuthError, match="expired"):
        second_factor.confirm_second_factor(session, "no-such-token", TOTP.at(later), now=later)


def test_administrators_and_managers_must_enrol_before_anything_else(client, staff_env):
    """Signed in with the password, an administrator without a second factor gets nothing but enrolment: the staff
    API refuses, every staff page's guard sends to /staff/seguridad/ (tests/unit/test_staff_access.py)."""
    from sqlmodel import Session

    make_admin(staff_env)
    assert client.post("/api/staff/login", data={"email": "admin@ayto.es", "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    assert client.get("/api/staff/me").json()["must_enrol"] is True
    assert client.get("/api/staff/reports.csv").status_code == 403
    with Session(staff_env) as s:
        admin = s.exec(select(StaffUser)).one()
        desk = auth.create_user(s, "d@ayto.es", "D", "desk", PASSWORD, office_ids=[1])
        assert auth.viewer_of(s, admin).must_enrol and not auth.viewer_of(s, desk).must_enrol
        second_factor.set_second_factor(s, admin, TOTP_SECRET)
        s.commit()
    assert client.get("/api/staff/reports.csv").status_code == 200


def test_an_administrator_resets_a_second_factor_audited(session, clock, enrolled):
    user, _ = enrolled
    admin = auth.create_user(session, "a@ayto.es", "A", "admin", PASSWORD)
    second_factor.set_second_factor(session, admin, TOTP_SECRET)
    session.commit()
    token, _ = code_step(session, clock, TOTP.at(clock.now))
    boss = auth.viewer_of(session, admin)
    with pytest.raises(permissions.StaffError):
        accounts.reset_second_factor(session, boss, admin.id)  # not their own
    with pytest.raises(permissions.Forbidden):
        accounts.reset_second_factor(session, auth.viewer_of(session, user), admin.id)
    accounts.reset_second_factor(session, boss, user.id, ip="10.0.0.1")
    session.commit()
    assert session.get(StaffUser, user.id).totp_secret == ""
    assert auth.viewer_for_token(session, token, now=clock.now) is None  # their sessions ended
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.second_factor_reset")).one()
    assert event.actor == "a@ayto.es" and event.target == f"staff:{user.id}"
    assert auth.sign_in(session, "d@ayto.es", PASSWORD, now=clock.now)[1]  # a desk: straight in again


def test_two_step_sign_in_through_the_api(client, staff_env):
    from sqlmodel import Session

    make_admin(staff_env)
    with Session(staff_env) as s:
        second_factor.set_second_factor(s, s.exec(select(StaffUser)).one(), TOTP_SECRET)
        s.commit()
    first = client.post("/api/staff/login", data={"email": "admin@ayto.es", "password": PASSWORD,
                                                  "next": "/staff/usuarios/"}, follow_redirects=False)
    assert first.headers["location"] == "/staff/login/?step=code&next=/staff/usuarios/"
    assert client.get("/api/staff/me").status_code == 401  # the password alone opens nothing
    wrong = client.post("/api/staff/login/code", data={"code": "000000", "next": "/staff/usuarios/"},
                        follow_redirects=False)
    assert wrong.headers["location"] == "/staff/login/?step=code&error=code&next=/staff/usuarios/"
    done = client.post("/api/staff/login/code", data={"code": TOTP.now(), "next": "/staff/usuarios/"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/staff/usuarios/"
    assert client.get("/api/staff/me").json()["email"] == "admin@ayto.es"


def test_staff_pages_need_a_session_before_they_are_served(staff_env):
    """The server itself sends a browser without a session (never signed in, signed out, or with only the password
    step done) to the sign-in page, instead of serving the staff page and waiting for its first websocket event."""
    from fastapi.testclient import TestClient
    from sqlmodel import Session
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from pwa_app.staff_gate import StaffPagesGuard

    page = Starlette(routes=[Route("/{path:path}", lambda request: PlainTextResponse("page"))])
    browser = TestClient(StaffPagesGuard(page), base_url="http://testserver", follow_redirects=False)
    html = {"Accept": "text/html,application/xhtml+xml"}
    make_admin(staff_env, role="desk")
    with Session(staff_env) as s:
        token, _ = auth.sign_in(s, "admin@ayto.es", PASSWORD)
        desk = s.exec(select(StaffUser)).one()
    anonymous = browser.get("/staff/dia/?fecha=2026-12-01", headers=html)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/staff/login/?next=/staff/dia/%3Ffecha%3D2026-12-01"
    assert browser.get("/staff/login/?next=/staff/", headers=html).text == "page"
    assert browser.get("/es/", headers=html).text == "page"  # citizen pages: untouched
    assert browser.get("/staff/pantalla/clave/?t=x", headers=html).text == "page"  # the wall screen: its own key
    assert browser.get("/staff/dia/", headers={**html, "Cookie": f"{auth.COOKIE}={token}"}).text == "page"
    with Session(staff_env) as s:
        auth.sign_out(s, token)
        second_factor.set_second_factor(s, s.get(StaffUser, desk.id), TOTP_SECRET)
        s.commit()
        pending, _ = auth.sign_in(s, "admin@ayto.es", PASSWORD)
    for cookie in (token, pending):  # signed out; only the password given
        assert browser.get("/staff/", headers={**html, "Cookie": f"{auth.COOKIE}={cookie}"}).status_code == 303


@pytest.mark.slow
def test_the_command_line_enrols_a_known_secret_and_resets_it(staff_env):
    """Scripts and tests (and a demo without a phone) give the secret in CITA_STAFF_TOTP_SECRET; a lost phone is
    `reset-second-factor`."""
    import os
    import subprocess
    import sys

    from sqlmodel import Session

    from tests.unit.test_staff_auth import ROOT

    env = {**os.environ, "DATABASE_URL": staff_env.url.render_as_string(hide_password=False),
           "CITA_STAFF_PASSWORD": PASSWORD, "CITA_STAFF_TOTP_SECRET": TOTP_SECRET}
    def run(*args):
        return subprocess.run([sys.executable, "-m", "pwa_app.staff_admin", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True)

    assert run("create-admin", "--email", "boss@ayto.es").returncode == 0
    with Session(staff_env) as s:
        boss = s.exec(select(StaffUser)).one()
        assert second_factor.unseal(boss.totp_secret) == TOTP_SECRET and not auth.viewer_of(s, boss).must_enrol
    assert run("reset-second-factor", "--email", "boss@ayto.es").returncode == 0
    with Session(staff_env) as s:
        assert s.exec(select(StaffUser)).one().totp_secret == ""
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "user.second_factor_reset_cli")).one()
