"""Staff sign-in: argon2 hashes, sessions (random token, only its hash stored, expiry, idle timeout, sign-out),
lock-out per account and per client address, the session cookie's flags, and the create-admin command."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from sqlmodel import Session, select

from pwa_app import db
from pwa_app.common.times import utcnow
from pwa_app.models import AuditEvent, LoginAttempt, Office, StaffSession, StaffUser
from pwa_app.staff import auth, permissions, second_factor
from pwa_app.staff.auth import AuthError
from tests.unit.conftest import override_settings

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # the authenticator app's secret of the fixtures' enrolled accounts


@pytest.fixture
def staff_env(engine, monkeypatch):
    """The seeded temp SQLite file as the app's database (services, API and staff state all use it)."""
    from pwa_app.catalogue import published

    override_settings(monkeypatch, DATABASE_URL=engine.url.render_as_string(hide_password=False))
    override_settings(monkeypatch, CITA_SECURE_COOKIES=None)
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES=None)
    db.engine.cache_clear()
    published.changed()
    yield engine
    if db.engine.cache_info().currsize:
        db.engine().dispose()
    db.engine.cache_clear()
    published.changed()


@pytest.fixture
def people(staff_env):
    """An administrator, a manager of the first office (department 1), a front desk of the first office and one
    of the second office; each signed in: {role: (user, token)}."""
    with Session(staff_env, expire_on_commit=False) as s:
        offices = s.exec(select(Office).order_by(Office.id)).all()
        made = {
            "admin": auth.create_user(s, "admin@ayto.es", "Ana", "admin", PASSWORD),
            "manager": auth.create_user(s, "manager@ayto.es", "Marta", "manager", PASSWORD,
                                        office_ids=[offices[0].id], department_id=1),
            "desk": auth.create_user(s, "desk@ayto.es", "Diego", "desk", PASSWORD, office_ids=[offices[0].id]),
            "desk2": auth.create_user(s, "desk2@ayto.es", "Dora", "desk", PASSWORD, office_ids=[offices[1].id]),
        }
        for role in permissions.SECOND_FACTOR_REQUIRED:
            second_factor.set_second_factor(s, made[role], TOTP_SECRET)
        s.commit()
        return {role: (user, full_sign_in(s, user.email, ip=f"10.0.0.{i}")[0])
                for i, (role, user) in enumerate(made.items(), 1)}


def full_sign_in(session, email: str, *, ip: str = "", now=None):
    """Password, then (for an account with a second factor) the authenticator's current code."""
    now = now or utcnow()
    token, viewer = auth.sign_in(session, email, PASSWORD, ip=ip, now=now)
    if viewer is None:
        token, viewer = second_factor.confirm_second_factor(session, token, pyotp.TOTP(TOTP_SECRET).at(now), ip=ip, now=now)
    return token, viewer


@pytest.mark.real_argon2
def test_password_is_stored_as_argon2_only(session):
    user = auth.create_user(session, " Ana@Ayto.ES ", "Ana", "admin", PASSWORD)
    assert user.email == "ana@ayto.es"
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and PASSWORD not in user.password_hash


@pytest.mark.parametrize("email,role,password,code", [
    ("not-an-email", "admin", PASSWORD, "email"),
    ("a@ayto.es", "king", PASSWORD, "role"),
    ("a@ayto.es", "desk", "short", "weak_password"),
    ("a@ayto.es", "desk", " " * 20, "weak_password"),
])
def test_accounts_are_checked(session, email, role, password, code):
    with pytest.raises(AuthError) as exc:
        auth.create_user(session, email, "X", role, password)
    assert exc.value.code == code


def test_duplicate_account_refused(session):
    auth.create_user(session, "a@ayto.es", "A", "desk", PASSWORD)
    with pytest.raises(AuthError) as exc:
        auth.create_user(session, "A@ayto.es", "A", "desk", PASSWORD)
    assert exc.value.code == "exists"


def test_sign_in_opens_a_session_storing_only_the_token_hash(session):
    auth.create_user(session, "a@ayto.es", "A", "admin", PASSWORD)
    session.commit()
    token, viewer = auth.sign_in(session, "A@ayto.es", PASSWORD, ip="1.1.1.1")
    assert len(token) >= 40 and viewer.role == "admin"
    row = session.exec(select(StaffSession)).one()
    assert row.token_hash == auth.token_hash(token) and token not in row.token_hash
    assert auth.viewer_for_token(session, token).email == "a@ayto.es"
    assert auth.viewer_for_token(session, token + "x") is None
    assert auth.viewer_for_token(session, None) is None
    assert "auth.sign_in" in session.exec(select(AuditEvent.action)).all()


def test_wrong_password_and_unknown_account_answer_alike(session):
    auth.create_user(session, "a@ayto.es", "A", "admin", PASSWORD)
    session.commit()
    for email in ("a@ayto.es", "nobody@ayto.es"):
        with pytest.raises(AuthError) as exc:
            auth.sign_in(session, email, "wrong password", ip="1.1.1.1")
        assert exc.value.code == "invalid"


def test_session_expires_and_idles_out(session, clock):
    auth.create_user(session, "a@ayto.es", "A", "admin", PASSWORD)
    session.commit()
    token, _ = auth.sign_in(session, "a@ayto.es", PASSWORD, now=clock.now)
    assert auth.viewer_for_token(session, token, now=clock.now + timedelta(minutes=auth.IDLE_MINUTES - 1))
    # Used within the idle time every hour: still ends at the absolute expiry.
    for hour in range(1, auth.SESSION_HOURS):
        assert auth.viewer_for_token(session, token, now=clock.now + timedelta(hours=hour))
    assert auth.viewer_for_token(session, token, now=clock.now + timedelta(hours=auth.SESSION_HOURS)) is None
    token, _ = auth.sign_in(session, "a@ayto.es", PASSWORD, now=clock.now)
    assert auth.viewer_for_token(session, token, now=clock.now + timedelta(minutes=auth.IDLE_MINUTES + 1)) is None


def test_sign_out_password_change_and_deactivation_end_sessions(session):
    user = auth.create_user(session, "a@ayto.es", "A", "admin", PASSWORD)
    session.commit()
    token, _ = auth.sign_in(session, "a@ayto.es", PASSWORD)
    auth.sign_out(session, token)
    assert auth.viewer_for_token(session, token) is None
    token, _ = auth.sign_in(session, "a@ayto.es", PASSWORD)
    auth.set_password(session, user, "another long password")
    session.commit()
    assert auth.viewer_for_token(session, token) is None
    token, _ = auth.sign_in(session, "a@ayto.es", "another long password")
    auth.deactivate(session, user)
    session.commit()
    assert auth.viewer_for_token(session, token) is None
    with pytest.raises(AuthError):
        auth.sign_in(session, "a@ayto.es", "another long password")


def proof() -> str:
    """A solved proof of work, as the sign-in page's script sends after several failures."""
    import base64
    import json

    import altcha

    from pwa_app.appointments import fairness

    c = fairness.challenge()
    found = altcha.solve_challenge_v1(c["challenge"], c["salt"], c["algorithm"], c["maxnumber"], 0)
    return base64.b64encode(json.dumps({**{k: c[k] for k in ("algorithm", "challenge", "salt", "signature")},
                                        "number": found.number}).encode()).decode()


def fail_times(session, n: int, start, email="a@ayto.es"):
    """n wrong passwords from n addresses, one second apart (the proof of work given once it is asked for)."""
    for i in range(n):
        with pytest.raises(AuthError) as exc:
            auth.sign_in(session, email, "wrong", ip=f"9.9.{i // 250}.{i % 250}", proof=proof(),
                         now=start + timedelta(seconds=i))
        assert exc.value.code == "invalid"
    return start + timedelta(seconds=n - 1)


def test_failures_slow_an_account_down_but_the_right_password_still_signs_in(session, clock):
    """Soft lock-out: five wrong passwords used to lock the account for 15 minutes, the right password too (anyone
    could lock every member of staff out). Now the next try waits a moment and carries a proof of work, and then
    the right password signs in."""
    auth.create_user(session, "a@ayto.es", "A", "desk", PASSWORD, office_ids=[1])
    session.commit()
    last = fail_times(session, auth.ACCOUNT_FAILURES, clock.now)
    with pytest.raises(AuthError) as exc:  # too soon: refused unchecked, with how long to wait
        auth.sign_in(session, "a@ayto.es", PASSWORD, ip="8.8.8.8", proof=proof(), now=last + timedelta(seconds=1))
    assert exc.value.code == "slow" and exc.value.retry_after == 1
    after = last + timedelta(seconds=2)
    with pytest.raises(AuthError) as exc:  # on time, but without a proof of work
        auth.sign_in(session, "a@ayto.es", PASSWORD, ip="8.8.8.8", now=after)
    assert exc.value.code == "proof"
    spent = proof()
    token, viewer = auth.sign_in(session, "a@ayto.es", PASSWORD, ip="8.8.8.8", proof=spent, now=after)
    assert token and viewer.email == "a@ayto.es"
    # The count starts again after a sign-in; a spent proof cannot be replayed.
    fail_times(session, auth.ACCOUNT_FAILURES, after + timedelta(seconds=1))
    with pytest.raises(AuthError) as exc:
        auth.sign_in(session, "a@ayto.es", PASSWORD, proof=spent, now=after + timedelta(minutes=1))
    assert exc.value.code == "proof"


def test_the_delay_doubles_with_each_failure_up_to_a_ceiling(session, clock):
    auth.create_user(session, "a@ayto.es", "A", "desk", PASSWORD, office_ids=[1])
    session.commit()
    now = fail_times(session, auth.ACCOUNT_FAILURES, clock.now)
    waits = []
    for _ in range(10):
        wait, needs_proof = auth.account_delay(session, "a@ayto.es", now)
        assert needs_proof
        waits.append(wait)
        now += timedelta(seconds=wait)
        with pytest.raises(AuthError, match="invalid"):
            auth.sign_in(session, "a@ayto.es", "wrong", proof=proof(), now=now)
    assert waits == [2, 4, 8, 16, 32, 64, 128, 256, auth.MAX_DELAY_SECONDS, auth.MAX_DELAY_SECONDS]


def test_a_flood_of_early_tries_does_not_keep_the_owner_out(session, clock):
    """Tries during the delay are refused without being counted: they neither check the password nor make the
    delay longer, so the owner's right password gets in once it is over."""
    auth.create_user(session, "a@ayto.es", "A", "desk", PASSWORD, office_ids=[1])
    session.commit()
    last = fail_times(session, auth.ACCOUNT_FAILURES, clock.now)
    for i in range(30):
        with pytest.raises(AuthError, match="slow"):
            auth.sign_in(session, "a@ayto.es", "guess", ip=f"5.5.5.{i}", now=last + timedelta(milliseconds=50 * i))
    assert auth.account_delay(session, "a@ayto.es", last) == (2, True)
    assert auth.sign_in(session, "a@ayto.es", PASSWORD, ip="8.8.8.8", proof=proof(),
                        now=last + timedelta(seconds=2))[1]


def test_a_success_resets_the_account_count(session, clock):
    auth.create_user(session, "a@ayto.es", "A", "admin", PASSWORD)
    session.commit()
    for i in range(auth.ACCOUNT_FAILURES - 1):
        with pytest.raises(AuthError):
            auth.sign_in(session, "a@ayto.es", "wrong", now=clock.now + timedelta(seconds=i))
    auth.sign_in(session, "a@ayto.es", PASSWORD, now=clock.now + timedelta(seconds=10))
    with pytest.raises(AuthError) as exc:
        auth.sign_in(session, "a@ayto.es", "wrong", now=clock.now + timedelta(seconds=11))
    assert exc.value.code == "invalid"


def test_client_address_locks_after_many_failures_across_accounts(session, clock):
    auth.create_user(session, "a@ayto.es", "A", "admin", PASSWORD)
    session.commit()
    for i in range(auth.IP_FAILURES):
        with pytest.raises(AuthError):
            auth.sign_in(session, f"guess{i}@ayto.es", "wrong", ip="6.6.6.6", now=clock.now + timedelta(seconds=i))
    with pytest.raises(AuthError) as exc:
        auth.sign_in(session, "a@ayto.es", PASSWORD, ip="6.6.6.6", now=clock.now + timedelta(minutes=1))
    assert exc.value.code == "locked"
    assert auth.sign_in(session, "a@ayto.es", PASSWORD, ip="7.7.7.7", now=clock.now + timedelta(minutes=1))
    assert session.exec(select(LoginAttempt).where(LoginAttempt.outcome == "locked")).first()


def test_cookie_header_parsing():
    assert auth.token_from_cookie_header("a=1; cita_staff=tok-EN_1; b=2") == "tok-EN_1"
    assert auth.token_from_cookie_header("a=1") is None
    assert auth.token_from_cookie_header("") is None
    assert auth.token_from_cookie_header('cita_staff="unterminated') in (None, '"unterminated')
    assert auth.token_from_cookie_header("cita_staff=old; __Host-cita_staff=new") == "new"


# --- the API --------------------------------------------------------------------------------------------------


@pytest.fixture
def client(staff_env):
    from fastapi.testclient import TestClient

    from pwa_app.api import create_api

    from tests.unit.conftest import PEER

    with TestClient(create_api(), base_url="http://testserver", client=PEER) as c:
        yield c


def make_admin(engine, email="admin@ayto.es", role="admin"):
    with Session(engine) as s:
        auth.create_user(s, email, "Ana", role, PASSWORD, office_ids=[] if role == "admin" else [1])
        s.commit()


def test_login_sets_an_httponly_lax_cookie_and_logout_ends_the_session(client, staff_env):
    make_admin(staff_env)
    answer = client.post("/api/staff/login", data={"email": "admin@ayto.es", "password": PASSWORD,
                                                   "next": "/staff/dia/"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/staff/dia/"
    cookie = answer.headers["set-cookie"]
    assert "cita_staff=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in the test
    assert client.get("/api/staff/me").json()["role"] == "admin"
    out = client.post("/api/staff/logout", follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].startswith("/staff/login/")
    client.cookies.clear()
    assert client.get("/api/staff/me").status_code == 401
    with Session(staff_env) as s:
        assert s.exec(select(StaffSession)).first() is None


def test_cookie_is_secure_behind_https(client, staff_env, monkeypatch):
    make_admin(staff_env)
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES="127.0.0.1")
    answer = client.post("/api/staff/login", data={"email": "admin@ayto.es", "password": PASSWORD},
                         headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "5.5.5.5"},
                         follow_redirects=False)
    assert "Secure" in answer.headers["set-cookie"]
    assert answer.headers["set-cookie"].startswith("__Host-cita_staff=")  # no subdomain can plant or replace it
    assert client.get("https://testserver/api/staff/me").status_code == 200  # and it is the one read back
    with Session(staff_env) as s:
        assert s.exec(select(StaffSession)).one().ip == "5.5.5.5"


def test_a_form_sent_before_the_page_read_its_address_still_goes_where_asked(client, staff_env):
    """The hidden `next` field is filled once the page has loaded; a fast sign-in sends the default, and the
    sign-in page's own address (its Referer) says where the person was going."""
    make_admin(staff_env)
    login_page = "http://testserver/staff/login/?next=/staff/pantalla/%3Foficina%3Doac"
    form = {"email": "admin@ayto.es", "password": PASSWORD, "next": "/staff/"}
    answer = client.post("/api/staff/login", data=form, headers={"Referer": login_page}, follow_redirects=False)
    assert answer.headers["location"] == "/staff/pantalla/?oficina=oac"
    client.cookies.clear()
    elsewhere = client.post("/api/staff/login", data=form, follow_redirects=False,
                            headers={"Referer": "https://evil.example/staff/login/?next=/staff/usuarios/"})
    assert elsewhere.headers["location"] == "/staff/"  # only our own page's address counts
    bad = client.post("/api/staff/login", data={**form, "password": "nope"}, headers={"Referer": login_page},
                      follow_redirects=False)
    assert bad.headers["location"] == "/staff/login/?error=invalid&next=/staff/pantalla/%3Foficina%3Doac"


def test_login_refusals_redirect_with_a_reason(client, staff_env):
    make_admin(staff_env)
    bad = client.post("/api/staff/login", data={"email": "admin@ayto.es", "password": "nope"}, follow_redirects=False)
    assert bad.status_code == 303 and bad.headers["location"] == "/staff/login/?error=invalid"
    assert "set-cookie" not in bad.headers
    other_site = client.post("/api/staff/login", data={"email": "admin@ayto.es", "password": PASSWORD},
                             headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert other_site.headers["location"].endswith("error=origin") and "set-cookie" not in other_site.headers
    # An open redirect through `next` is not possible.
    ok = client.post("/api/staff/login", data={"email": "admin@ayto.es", "password": PASSWORD,
                                               "next": "https://evil.example/"}, follow_redirects=False)
    assert ok.headers["location"] == "/staff/"


def test_login_slows_down_through_the_api(client, staff_env, monkeypatch):
    """The page's script gets 429 with Retry-After and the reason while the delay runs, then 428 (it solves a
    proof of work and sends again), then the right password signs in."""
    import pwa_app.api.staff as staff_api
    from tests.unit.conftest import solve_challenge

    async def no_sleep(_seconds):
        return None

    monkeypatch.setattr(staff_api.asyncio, "sleep", no_sleep)
    start = utcnow()
    monkeypatch.setattr(staff_api, "utcnow", lambda: start)
    make_admin(staff_env, role="desk")
    for _ in range(auth.ACCOUNT_FAILURES):
        client.post("/api/staff/login", data={"email": "admin@ayto.es", "password": "nope"}, follow_redirects=False)
    form, json_ = {"email": "admin@ayto.es", "password": PASSWORD}, {"Accept": "application/json"}
    early = client.post("/api/staff/login", data=form, headers=json_)
    assert early.status_code == 429 and early.headers["Retry-After"] == "2"
    assert early.json()["location"] == "/staff/login/?error=slow&wait=2"
    monkeypatch.setattr(staff_api, "utcnow", lambda: start + timedelta(seconds=3))
    asked = client.post("/api/staff/login", data=form, headers=json_)
    assert asked.status_code == 428 and asked.json()["prove"] is True
    signed = client.post("/api/staff/login", data={**form, "altcha": solve_challenge(client)}, headers=json_)
    assert signed.status_code == 200 and signed.json()["location"] == "/staff/"
    assert client.get("/api/staff/me").json()["email"] == "admin@ayto.es"


@pytest.mark.slow
def test_create_admin_command(staff_env, tmp_path):
    env = {**os.environ, "DATABASE_URL": staff_env.url.render_as_string(hide_password=False),
           "CITA_STAFF_PASSWORD": PASSWORD}
    done = subprocess.run([sys.executable, "-m", "pwa_app.staff_admin", "create-admin", "--email", "Boss@Ayto.es",
                           "--name", "Jefa"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    again = subprocess.run([sys.executable, "-m", "pwa_app.staff_admin", "create-admin", "--email", "boss@ayto.es"],
                           cwd=ROOT, env=env, capture_output=True, text=True)
    assert again.returncode == 2 and "already" in again.stderr
    # No password and no terminal: refused, never a default password.
    no_password = {k: v for k, v in env.items() if k != "CITA_STAFF_PASSWORD"}
    refused = subprocess.run([sys.executable, "-m", "pwa_app.staff_admin", "create-admin", "--email", "x@ayto.es"],
                             cwd=ROOT, env=no_password, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert refused.returncode != 0 and "CITA_STAFF_PASSWORD" in (refused.stderr + refused.stdout)
    with Session(staff_env) as s:
        user = s.exec(select(StaffUser).where(StaffUser.email == "boss@ayto.es")).one()
        assert user.role == "admin" and user.name == "Jefa"
        assert s.exec(select(StaffUser).where(StaffUser.email == "x@ayto.es")).first() is None
        assert auth.sign_in(s, "boss@ayto.es", PASSWORD)


def test_purge_drops_ended_sessions_and_old_attempts(session, clock):
    auth.create_user(session, "a@ayto.es", "A", "admin", PASSWORD)
    session.commit()
    auth.sign_in(session, "a@ayto.es", PASSWORD, now=clock.now)
    auth.purge(session, now=clock.now + timedelta(days=2))
    session.commit()
    assert session.exec(select(StaffSession)).first() is None
    assert session.exec(select(LoginAttempt)).first() is None
    assert utcnow()


def test_request_files_open_only_for_staff_of_the_requests_department(client, people, staff_env):
    from pwa_app.models import RequestType
    from pwa_app.service_requests import intake
    from tests.unit.test_tracking import JPEG, b64

    with Session(staff_env, expire_on_commit=False) as s:
        mine = s.exec(select(RequestType).where(RequestType.department_id == 1, RequestType.allows_photo)).first()
        other = s.exec(select(RequestType).where(RequestType.department_id != 1, RequestType.allows_photo)).first()
        raw = {"description": "Farola fundida.", "address": "Calle Mayor 1", "name": "Ana", "email": "a@b.es",
               "document": "12345678Z", "consent": True, "attachments": [{"filename": "foto.jpg", "data": b64(JPEG)}]}
        ours, theirs = (intake.submit(s, {**raw, "type": t.slug}) for t in (mine, other))
        s.commit()
    url = "/api/staff/requests/{}/attachments/{}"
    assert client.get(url.format(ours.id, 1)).status_code == 401  # nobody signed in
    client.cookies.set(auth.COOKIE, people["manager"][1])
    answer = client.get(url.format(ours.id, 1))
    assert answer.status_code == 200 and answer.content == JPEG and answer.headers["content-type"] == "image/jpeg"
    assert answer.headers["cache-control"] == "no-store" and "sandbox" in answer.headers["content-security-policy"]
    assert client.get(url.format(theirs.id, 1)).status_code == 404  # another department's request
    assert client.get(url.format(ours.id, 2)).status_code == 404
    client.cookies.set(auth.COOKIE, people["desk"][1])
    assert client.get(url.format(ours.id, 1)).status_code == 403  # the front desk does not handle requests
