"""Abuse, refused: guessing a booking's verifier (every endpoint that takes one counts wrong ones per code and per
address; a spent code answers 429 to anyone), picking one's own address through X-Forwarded-For, IPv6 address
hopping, floods while Redis is down, anonymous writes without proof of work or past their limits and byte quotas,
oversized bodies, and seat hoarding with holds. Each test failed before its fix; the README's Security section
says what is limited and how."""

import secrets
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, delete, func, select

from pwa_app import proxy
from pwa_app.appointments import booking
from pwa_app.common import codes, ratelimit
from pwa_app.common.i18n import gettext
from pwa_app.common.messages import ERRORS
from pwa_app.models import ServiceRequest
from tests.unit.conftest import PEER, solve_challenge, override_settings
from tests.unit.test_api import booked, free_slot, new_key, slot  # noqa: F401  (fixtures)
from tests.unit.test_fairness import api_seats
from tests.unit.test_requests_api import report
from tests.unit.test_staff_auth import PASSWORD, client, make_admin, staff_env  # noqa: F401  (fixtures)


def other_address(api, host: str) -> TestClient:
    """A second client of the same app, calling from another address."""
    return TestClient(api.app, client=(host, 50000))


def verifier_calls(code: str, verifier: str, start: str):
    """(method, path, keyword arguments) of every endpoint that opens a booking with a verifier."""
    q = {"verifier": verifier, "lang": "es"}
    yield "GET", f"/api/v1/appointments/{code}", {"params": q}
    yield "DELETE", f"/api/v1/appointments/{code}", {"params": q, "headers": {"Idempotency-Key": new_key()}}
    yield "POST", f"/api/v1/appointments/{code}/reschedule", {
        "json": {"verifier": verifier, "office": "junta-distrito-norte", "start": start},
        "headers": {"Idempotency-Key": new_key()}}
    yield "GET", f"/api/v1/appointments/{code}/calendar.ics", {"params": q}
    yield "GET", f"/api/v1/appointments/{code}/qr.svg", {"params": q}
    yield "DELETE", f"/api/v1/appointments/{code}/personal-data", {"params": q,
                                                                   "headers": {"Idempotency-Key": new_key()}}


def test_wrong_verifiers_lock_the_code_on_every_endpoint_from_every_address(api, booked):
    code, right = booked["code"], booked["verifier"]
    answers = []
    for guess in ("0000", "0001"):  # two wrong guesses through each of the six endpoints: 12 > 10 an hour
        answers += [api.request(m, path, **kw).status_code for m, path, kw in verifier_calls(code, guess,
                                                                                              booked["start"])]
    assert answers[:10] == [404] * 10 and answers[10:] == [429, 429]
    for client in (api, other_address(api, "203.0.113.9")):  # the right verifier, from anywhere: still 429
        for method, path, kw in verifier_calls(code, right, booked["start"]):
            r = client.request(method, path, **kw)
            assert r.status_code == 429, (method, path, r.text)
            assert 0 < int(r.headers["Retry-After"]) <= 3600 and r.json()["codes"] == {"rate": "rate_limited"}
    assert r.json()["errors"]["rate"]  # a translated message


def test_one_address_guessing_many_codes_is_stopped(api, booked):
    fakes = [codes.format_code(codes.new_code()) for _ in range(31)]
    answers = [api.get(f"/api/v1/appointments/{c}", params={"verifier": "1234"}).status_code for c in fakes]
    assert answers[:30] == [404] * 30 and answers[30] == 429  # 30 wrong pairs an hour per address
    assert api.get(f"/api/v1/appointments/{booked['code']}", params={"verifier": booked["verifier"]}
                   ).status_code == 429
    citizen = other_address(api, "198.51.100.7")  # someone else still opens their booking
    assert citizen.get(f"/api/v1/appointments/{booked['code']}",
                       params={"verifier": booked["verifier"]}).status_code == 200


def test_lookups_by_code_are_limited_per_address(api, booked, monkeypatch):
    override_settings(monkeypatch, CITA_RATE_APPOINTMENT="3/60")
    right = {"verifier": booked["verifier"]}
    assert [api.get(f"/api/v1/appointments/{booked['code']}", params=right).status_code
            for _ in range(4)] == [200, 200, 200, 429]


def test_a_right_verifier_does_not_count(api, booked):
    for _ in range(15):
        assert api.get(f"/api/v1/appointments/{booked['code']}",
                       params={"verifier": booked["verifier"]}).status_code == 200


@pytest.mark.parametrize("verifier", ["ñ678", "678Ż", "日本語", "\u00e9"])
def test_a_non_ascii_verifier_is_a_plain_404(api, engine, booked, verifier):
    # compare_digest refused non-ASCII text: 500 for an existing code, 404 otherwise (a crash and a tell).
    r = api.get(f"/api/v1/appointments/{booked['code']}", params={"verifier": verifier})
    assert r.status_code == 404 and r.json()["codes"] == {"code": "not_found"}
    with Session(engine) as s:
        assert booking.find(s, booked["code"], verifier) is None


# --- the client's address -------------------------------------------------------------------------------------


def lookups(client, n: int, forwarded=lambda i: None) -> list[int]:
    """`n` tracking-code lookups (limited per address), each with the X-Forwarded-For `forwarded(i)`."""
    out = []
    for i in range(n):
        headers = {"X-Forwarded-For": forwarded(i)} if forwarded(i) else {}
        out.append(client.get("/api/v1/requests/AAAAA-AAAAA", headers=headers).status_code)
    return out


@pytest.fixture
def three_lookups(monkeypatch):
    override_settings(monkeypatch, CITA_RATE_LOOKUP="3/60")
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES=None)


def test_a_client_reaching_the_backend_directly_cannot_pick_its_address(api, three_lookups, monkeypatch):
    monkeypatch.setenv("CITA_PROXY_HOPS", "1")  # the old setting trusted any sender's last X-Forwarded-For entry
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES="127.0.0.1")
    direct = other_address(api, "192.0.2.10")
    assert lookups(direct, 4, lambda i: f"198.51.100.{i}") == [404, 404, 404, 429]


def test_behind_the_proxy_every_citizen_counts_apart(api, three_lookups, monkeypatch):
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8")  # the test client is the proxy
    assert lookups(api, 6, lambda i: f"198.51.100.{i}, 10.1.2.3") == [404] * 6  # each through two proxies
    assert lookups(api, 4, lambda i: f"6.6.6.{i}, 198.51.100.50") == [404, 404, 404, 429]  # a forged left part


def test_ipv6_clients_count_per_64_network(api, three_lookups):
    assert [lookups(other_address(api, f"2001:db8:1:2::{i:x}"), 1)[0] for i in range(1, 5)] == [404, 404, 404, 429]
    assert lookups(other_address(api, "2001:db8:1:3::1"), 1) == [404]  # the neighbouring network


def test_production_with_workers_refuses_to_start_without_a_proxy_setting(monkeypatch):
    monkeypatch.setenv("REFLEX_ENV_MODE", "prod")
    override_settings(monkeypatch, REDIS_URL="redis://127.0.0.1:6379/0")
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES=None)
    with pytest.raises(proxy.ProxySettingMissing, match="CITA_TRUSTED_PROXIES"):
        proxy.check_production()
    for setting in ("127.0.0.1", "none"):  # the proxy's address, or a deliberate "clients connect directly"
        override_settings(monkeypatch, CITA_TRUSTED_PROXIES=setting)
        proxy.check_production()
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES=None)
    override_settings(monkeypatch, REDIS_URL=None)
    proxy.check_production()  # one process (the default set-up): nothing to set


# --- Redis down -----------------------------------------------------------------------------------------------


def test_with_redis_down_a_flood_is_still_refused_and_the_worker_stays_in_the_pool(api, monkeypatch):
    override_settings(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    override_settings(monkeypatch, CITA_RATE_LOOKUP="5/60")
    ratelimit.limiter.cache_clear()
    assert lookups(api, 8) == [404] * 5 + [429] * 3  # counted in this process meanwhile, never let through
    assert lookups(other_address(api, "198.51.100.8"), 1) == [404]  # someone else is not affected
    health = api.get("/api/v1/health")
    assert health.status_code == 200 and health.json()["status"] == "degraded"


# --- anonymous writes -----------------------------------------------------------------------------------------

def plain(api) -> TestClient:
    """A client that sends what it is given: no proof of work added (a script)."""
    return TestClient(api.app, client=("192.0.2.99", 50000))


def test_a_web_request_needs_a_proof_of_work(api, engine):
    bot = plain(api)
    r = bot.post("/api/v1/requests", json=report(), headers={"Idempotency-Key": new_key()})
    assert r.status_code == 428 and r.json()["codes"] == {"altcha": "challenge_request"}
    assert r.json()["errors"]["altcha"] == gettext("es", ERRORS["challenge_request"])  # not "a person booking"
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(ServiceRequest)).one() == 0  # nothing stored
    proof = solve_challenge(bot)
    ok = bot.post("/api/v1/requests", json=report(altcha=proof), headers={"Idempotency-Key": new_key()})
    assert ok.status_code == 201, ok.text
    again = bot.post("/api/v1/requests", json=report(altcha=proof), headers={"Idempotency-Key": new_key()})
    assert again.status_code == 428  # a proof is spent once


def test_web_requests_are_limited_per_address(api, monkeypatch):
    override_settings(monkeypatch, CITA_RATE_REQUEST="3/3600")
    answers = [api.post("/api/v1/requests", json=report(), headers={"Idempotency-Key": new_key()}).status_code
               for _ in range(4)]
    assert answers == [201, 201, 201, 429]
    assert plain(api).post("/api/v1/requests", json=report(altcha=solve_challenge(api)),
                           headers={"Idempotency-Key": new_key()}).status_code == 201  # another address


def test_attachment_bytes_have_a_daily_quota(api, monkeypatch):
    photo = report()["attachments"][0]
    two_photos = len(photo["data"]) * 3 // 4 * 2
    override_settings(monkeypatch, CITA_RATE_UPLOAD_BYTES=f"{two_photos}/86400")  # two photos a day
    send = lambda: api.post("/api/v1/requests", json=report(), headers={"Idempotency-Key": new_key()})  # noqa: E731
    assert [send().status_code for _ in range(3)] == [201, 201, 429]
    assert api.post("/api/v1/requests", json=report(attachments=[]),
                    headers={"Idempotency-Key": new_key()}).status_code == 201  # words still go through
    override_settings(monkeypatch, CITA_RATE_UPLOAD_BYTES_TOTAL="1/86400")  # and everyone's together
    assert plain(api).post("/api/v1/requests", json=report(altcha=solve_challenge(api)),
                           headers={"Idempotency-Key": new_key()}).status_code == 429


def test_big_bodies_are_refused_before_parsing_except_where_attachments_go(api):
    padding = "x" * 70_000
    assert api.post("/api/v1/holds", json={"procedure": padding}).status_code == 413
    assert api.put("/api/v1/push/subscription", json={"lang": padding}).status_code == 413
    assert api.post("/api/v1/requests", json=report(description=padding),
                    headers={"Idempotency-Key": new_key()}).status_code == 422  # parsed: too long a description


def open311_post(client, headers=None, **fields):
    form = {"service_code": "alumbrado-publico", "description": "Farola apagada en la esquina con la plaza.",
            "lat": "40.6101", "long": "-3.9012", "address_string": "Calle Real, 3", "first_name": "Lucía",
            "email": "lucia@example.com", **fields}
    return client.post("/api/open311/v2/requests.json", data=form, headers=headers)


def test_open311_posts_are_limited_per_address_and_per_key(api, monkeypatch):
    override_settings(monkeypatch, CITA_OPEN311_API_KEYS=None)
    override_settings(monkeypatch, CITA_RATE_OPEN311_POST="3/600")
    assert [open311_post(api).status_code for _ in range(4)] == [200, 200, 200, 429]
    override_settings(monkeypatch, CITA_OPEN311_API_KEYS="civic-tool")
    override_settings(monkeypatch, CITA_RATE_OPEN311_KEY="2/3600")
    tools = [other_address(api, f"192.0.2.{i}") for i in (1, 2, 3)]  # one key used from many addresses
    assert [open311_post(t, api_key="civic-tool").status_code for t in tools] == [200, 200, 429]


def test_open311_posting_needs_a_key_in_production(api, monkeypatch):
    override_settings(monkeypatch, CITA_OPEN311_API_KEYS=None)
    monkeypatch.setenv("REFLEX_ENV_MODE", "prod")
    assert open311_post(api).status_code == 403
    override_settings(monkeypatch, CITA_OPEN311_API_KEYS="civic-tool")
    assert open311_post(api, api_key="civic-tool").status_code == 200


def test_holds_need_a_proof_and_one_address_holds_few_seats(api):
    seats = api_seats(api, 5, seats_per_slot=2)
    hold = lambda client, start, **extra: client.post("/api/v1/holds", json={  # noqa: E731
        "procedure": "alta-padron", "office": "junta-distrito-norte", "start": start, **extra})
    bot = plain(api)
    assert hold(bot, seats[0]).status_code == 428  # no proof: no seat
    assert [hold(api, s).status_code for s in seats[:4]] == [201, 201, 201, 429]  # three live holds at most
    assert hold(bot, seats[3], altcha=solve_challenge(bot)).status_code == 201  # another address


def test_releasing_holds_is_limited(api, monkeypatch):
    override_settings(monkeypatch, CITA_RATE_HOLD_RELEASE="2/60")
    assert [api.delete(f"/api/v1/holds/nothing-{i}").status_code for i in range(3)] == [204, 204, 429]


# --- origins --------------------------------------------------------------------------------------------------


def test_cors_and_the_websocket_allow_only_the_public_origin(monkeypatch):
    import importlib

    import rxconfig

    override_settings(monkeypatch, REFLEX_API_URL="https://cita.villanuevadelpinar.es")
    override_settings(monkeypatch, CITA_PUBLIC_URL=None)
    try:
        assert list(importlib.reload(rxconfig).config.cors_allowed_origins) == ["https://cita.villanuevadelpinar.es"]
    finally:
        monkeypatch.undo()
        importlib.reload(rxconfig)


def test_the_staff_api_refuses_other_sites(client, staff_env):
    staff_client = client
    make_admin(staff_env)
    assert staff_client.post("/api/staff/login", data={"email": "admin@ayto.es", "password": PASSWORD},
                             follow_redirects=False).status_code == 303
    assert staff_client.get("/api/staff/me").status_code == 200
    assert staff_client.get("/api/staff/me", headers={"Origin": "http://testserver"}).status_code == 200
    for path in ("/api/staff/me", "/api/staff/reports.csv", "/api/staff/feedback.csv"):
        r = staff_client.get(path, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403, (path, r.status_code)


def test_every_other_anonymous_write_is_limited_per_address(api, monkeypatch):
    override_settings(monkeypatch, CITA_RATE_APPOINTMENT="2/60")
    override_settings(monkeypatch, CITA_RATE_PUSH="2/60")
    confirm = lambda: api.post("/api/v1/appointments/confirm", json={"token": "nothing"},  # noqa: E731
                               headers={"Idempotency-Key": new_key()}).status_code
    assert [confirm() for _ in range(3)] == [422, 422, 429]
    forget = lambda: api.request("DELETE", "/api/v1/push/subscription",  # noqa: E731
                                 json={"endpoint": "https://fcm.googleapis.com/x", "auth": "x"}).status_code
    assert [forget() for _ in range(3)] == [200, 200, 429]


# --- transport, cookies, caches, exports ----------------------------------------------------------------------


def test_smtp_starttls_verifies_the_servers_certificate(monkeypatch):
    import smtplib
    import ssl

    from pwa_app.notifications import mail

    used = {}

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            used["host"] = host

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self, context=None):
            used["context"] = context

        def login(self, user, password):
            pass

        def sendmail(self, sender, recipients, raw):
            used["sent"] = recipients

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    override_settings(monkeypatch, CITA_SMTP_HOST="smtp.example.es")
    override_settings(monkeypatch, CITA_SMTP_STARTTLS=None)
    mail.transmit("ana@example.com", "Subject: x\r\n\r\nx")
    context = used["context"]  # without a context smtplib encrypts to whoever answers
    assert context is not None and context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert used["sent"] == ["ana@example.com"]


def test_personal_data_is_never_kept_in_an_http_cache(api, booked):
    r = api.get(f"/api/v1/appointments/{booked['code']}", params={"verifier": booked["verifier"]})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    sent = api.post("/api/v1/requests", json=report(), headers={"Idempotency-Key": new_key()})
    assert sent.status_code == 201 and sent.headers["cache-control"] == "no-store"
    assert api.get(f"/api/v1/requests/{sent.json()['code']}").headers["cache-control"] == "no-store"


def test_every_csv_export_defuses_formulas():
    from pwa_app.staff import reports
    from pwa_app.feedback import surveys

    row = ["2026-12-01", "=HYPERLINK(\"http://evil.example\",\"x\")", "+1", 3, 1.5, "-2", "@SUM(A1)"]
    for export in (reports.to_csv, surveys.to_csv):
        cells = export([row]).splitlines()[1].split(";")
        assert cells[1].startswith("\"'=HYPERLINK") and cells[2] == "'+1" and cells[5] == "'-2" \
            and cells[6] == "'@SUM(A1)", export
        assert cells[3] == "3" and cells[4] == "1,5"  # numbers stay numbers


def test_no_swagger_page_from_a_cdn_in_production(monkeypatch):
    from pwa_app.api import create_api

    monkeypatch.setenv("REFLEX_ENV_MODE", "prod")
    client = TestClient(create_api())
    assert client.get("/api/v1/docs").status_code == 404
    assert client.get("/api/v1/openapi.json").status_code == 200  # the description itself stays


def test_the_secret_key_is_created_whole_by_exactly_one_of_many_workers(tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from pwa_app.appointments import fairness

    override_settings(monkeypatch, CITA_INSTANCE_DIR=tmp_path, CITA_SECRET_KEY=None)

    def first_start(_):
        fairness.secret.cache_clear()
        return fairness.secret.__wrapped__()

    for _ in range(20):
        (tmp_path / "secret.key").unlink(missing_ok=True)
        with ThreadPoolExecutor(8) as pool:
            keys = set(pool.map(first_start, range(8)))
        assert len(keys) == 1 and len(keys.pop()) == 64  # never an empty or half-written key
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]  # no drafts left behind
    fairness.secret.cache_clear()


# --- races that answered 500 ----------------------------------------------------------------------------------


def test_two_replies_with_files_at_once_are_both_kept_on_postgresql(pg_engine, clock):
    import threading

    from pwa_app.models import Attachment, StatusChange
    from pwa_app.service_requests import intake
    from pwa_app.service_requests import rules
    from tests.unit.test_tracking import JPEG, b64, street

    with Session(pg_engine, expire_on_commit=False) as s:
        code = intake.submit(s, street(attachments=[{"filename": "a.jpg", "data": b64(JPEG)}]), now=clock.now).code
        s.commit()
    start, errors = threading.Barrier(2), []

    def answer(n: int):
        with Session(pg_engine) as s:
            found = rules.find(s, code)
            start.wait()
            try:
                intake.reply(s, found, {"text": f"Otra foto {n}", "attachments": [
                    {"filename": f"{n}.jpg", "data": b64(JPEG)}]}, now=clock.now)
                s.commit()
            except Exception as exc:  # noqa: BLE001 - what the API answered 500 for
                errors.append(exc)

    try:
        threads = [threading.Thread(target=answer, args=(n,)) for n in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with Session(pg_engine) as s:
            assert sorted(s.exec(select(Attachment.position)).all()) == [1, 2, 3]
    finally:
        with Session(pg_engine) as s:
            for model in (Attachment, StatusChange, ServiceRequest):
                s.exec(delete(model))
            s.commit()


def test_two_desks_checking_in_one_code_at_once_on_postgresql(pg_engine, clock):
    import secrets
    import threading

    from pwa_app.models import AuditEvent, QueueTicket, StaffOffice, StaffSession, StaffUser
    from pwa_app.staff import auth, desk
    from tests.unit.test_staff_services import OAC, office, today_appointment

    with Session(pg_engine, expire_on_commit=False) as s:
        appt, at = today_appointment(s, clock)
        user = auth.create_user(s, f"desk-{secrets.token_hex(3)}@ayto.es", "Diego", "desk", PASSWORD,
                                office_ids=[office(s, OAC).id])
        s.commit()
        clerk = auth.viewer_of(s, user)
    start, answers = threading.Barrier(2), []

    def check_in():
        with Session(pg_engine) as s:
            start.wait()
            try:
                answers.append(desk.check_in(s, clerk, appt.code, now=at.now)[1])
                s.commit()
            except Exception as exc:  # noqa: BLE001 - what the desk saw as a 500
                answers.append(exc)

    try:
        threads = [threading.Thread(target=check_in) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(answers) == 2 and answers[0] == answers[1] and isinstance(answers[0], str)  # one ticket
    finally:
        with Session(pg_engine) as s:
            for model in (QueueTicket, AuditEvent, StaffSession):
                s.exec(delete(model))
            s.exec(delete(StaffOffice).where(StaffOffice.staff_id == user.id))
            s.exec(delete(StaffUser).where(StaffUser.id == user.id))
            s.commit()


# --- staff sign-in --------------------------------------------------------------------------------------------


class FakeHasher:
    """Stands in for argon2's PasswordHasher (its methods cannot be patched): every check fails."""

    def __init__(self, on_verify):
        self.on_verify = on_verify

    def verify(self, _hash, _password):
        self.on_verify()
        return False


def test_staff_sign_in_is_limited_per_address_before_any_password_is_hashed(client, staff_env, monkeypatch):
    from pwa_app.staff import auth

    override_settings(monkeypatch, CITA_RATE_STAFF_LOGIN="3/60")
    hashed = []
    monkeypatch.setattr(auth, "_hasher", FakeHasher(lambda: hashed.append(1)))
    answers = [client.post("/api/staff/login", data={"email": f"x{i}@ayto.es", "password": "nope"},
                           follow_redirects=False).headers["location"] for i in range(5)]
    assert ["error=locked" in a for a in answers] == [False, False, False, True, True]
    assert len(hashed) == 3  # the refused ones cost no argon2
    codes = [client.post("/api/staff/login/code", data={"code": "123456"}, follow_redirects=False)
             for _ in range(3)]  # the second step counts in the same limit: a flood of codes is refused too
    assert all(c.status_code == 303 and "error=locked" in c.headers["location"] for c in codes)


def test_password_checks_run_a_few_at_a_time_on_postgresql(pg_engine, monkeypatch):
    import threading
    import time

    from pwa_app.models import AuditEvent, LoginAttempt
    from pwa_app.staff import auth

    running, most = [0], [0]
    lock = threading.Lock()

    def slow_verify():
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    monkeypatch.setattr(auth, "_hasher", FakeHasher(slow_verify))
    monkeypatch.setattr(auth, "_checks_at_once", threading.BoundedSemaphore(2))

    def attempt(n):
        with Session(pg_engine) as s:
            try:
                auth.sign_in(s, f"x{n}@ayto.es", "nope", ip=f"192.0.2.{n}")
            except auth.AuthError:
                pass

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Session(pg_engine) as s:
        for model in (LoginAttempt, AuditEvent):
            s.exec(delete(model))
        s.commit()
    assert most[0] == 2  # 8 at once, 64 MiB each, would be 512 MiB


def test_the_daily_purge_drops_ended_staff_sessions_and_old_attempts(session, clock):
    from pwa_app.models import LoginAttempt, StaffSession
    from pwa_app import retention
    from pwa_app.staff import auth

    auth.create_user(session, "a@ayto.es", "A", "admin", PASSWORD)
    session.commit()
    auth.sign_in(session, "a@ayto.es", PASSWORD, now=clock.now)
    retention.purge(session, now=clock.now + timedelta(days=2))
    session.commit()
    assert session.exec(select(StaffSession)).first() is None
    assert session.exec(select(LoginAttempt)).first() is None


# --- the bot harness ------------------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "redis", "redis down"])
def counts_in(request, monkeypatch):
    """Where the limits count: one process's memory, Redis (several workers; a prefix of its own), or a Redis
    that does not answer (each worker's memory meanwhile)."""
    if request.param == "memory":
        override_settings(monkeypatch, REDIS_URL=None)
        yield request.param
        return
    if request.param == "redis down":
        override_settings(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
        ratelimit.limiter.cache_clear()
        yield request.param
        return
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/0"
    probe = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        probe.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    prefix = f"cita:test:{secrets.token_hex(4)}"
    override_settings(monkeypatch, REDIS_URL=url)
    monkeypatch.setattr(ratelimit, "PREFIX", prefix)
    ratelimit.limiter.cache_clear()
    try:
        yield request.param
        assert probe.keys(prefix + ":*")  # the counts really were in Redis
    finally:
        for name in probe.scan_iter(prefix + ":*"):
            probe.delete(name)
        probe.close()


@pytest.mark.parametrize("via", ["direct", "proxy"])
def test_bots_are_refused_while_a_citizen_books(api, booked, counts_in, via, monkeypatch):
    """A bot brute-forces a verifier, floods lookups, requests without proof and Open311 posts, with a forged
    X-Forwarded-For, while a citizen books and opens their booking — directly and behind our proxy."""
    override_settings(monkeypatch, CITA_TRUSTED_PROXIES="127.0.0.1")
    if via == "direct":
        bot, citizen = other_address(api, "203.0.113.66"), other_address(api, "198.51.100.23")
        forged = {"X-Forwarded-For": "10.0.0.1"}  # written by the bot itself: must not count
    else:  # both through the proxy (the test clients are 127.0.0.1); the bot also forges a left part
        bot, citizen = TestClient(api.app, client=PEER), api
        forged = {"X-Forwarded-For": "10.9.8.7, 203.0.113.66"}
    citizen_headers = {} if via == "direct" else {"X-Forwarded-For": "198.51.100.23"}
    tally = {}

    def run(name, answers):
        tally[name] = {status: answers.count(status) for status in sorted(set(answers))}

    guesses = [f"{n:04d}" for n in range(60)]  # the booking's verifier is "678Z"
    run("verifier guesses", [bot.get(f"/api/v1/appointments/{booked['code']}", headers=forged,
                                     params={"verifier": g}).status_code for g in guesses])
    run("lookups", [bot.get(f"/api/v1/requests/AAAAA-{n:05d}", headers=forged).status_code for n in range(60)])
    run("requests without proof", [bot.post("/api/v1/requests", json=report(), headers={
        **forged, "Idempotency-Key": new_key()}).status_code for _ in range(20)])
    run("open311 posts", [open311_post(bot, headers=forged).status_code for _ in range(15)])
    mine = citizen.post("/api/v1/appointments", headers={**citizen_headers, "Idempotency-Key": new_key()},
                        json={"procedure": "alta-padron", "office": "junta-distrito-norte",
                              "start": free_slot(citizen)["start"], "name": "Lucía Martín", "document": "00000023T",
                              "phone": "699112233", "consent": True, "lang": "es",
                              "altcha": solve_challenge(citizen)})
    opened = citizen.get(f"/api/v1/appointments/{mine.json().get('code')}", headers=citizen_headers,
                         params={"verifier": "023T"})
    print(f"\n{counts_in}, {via}: {tally}; citizen booked {mine.status_code}, opened {opened.status_code}")
    assert tally["verifier guesses"] == {404: 10, 429: 50}  # ten guesses an hour for that code, from anywhere
    assert tally["lookups"] == {404: 30, 429: 30}
    assert tally["requests without proof"] == {428: 20}
    assert tally["open311 posts"] == {200: 10, 429: 5}
    assert mine.status_code == 201 and opened.status_code == 200


# --- privacy --------------------------------------------------------------------------------------------------


def test_erasure_also_blanks_the_answer_kept_for_resends(api, engine, slot):
    from pwa_app.models import IdempotencyRecord
    from tests.unit.test_api import post_booking

    key = new_key()
    made = post_booking(api, slot["start"], key, name="Rosa Erasmo Blanco")
    assert made.status_code == 201
    erased = api.delete(f"/api/v1/appointments/{made.json()['code']}/personal-data",
                        params={"verifier": made.json()["verifier"]}, headers={"Idempotency-Key": new_key()})
    assert erased.status_code == 200
    with Session(engine) as s:
        kept = s.get(IdempotencyRecord, key).body
    assert "Rosa" not in kept and made.json()["verifier"] not in kept and made.json()["code"] in kept
    assert post_booking(api, slot["start"], key, name="Rosa Erasmo Blanco").json()["name"] == ""  # a resend
