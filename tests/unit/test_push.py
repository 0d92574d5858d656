"""Web push: real pywebpush sends to a local push service (tests/unit/test_push_receiver.py) that checks the VAPID
JWT and decrypts each message with the subscription's private key. Reminder timing, no duplicate reminder across a
restart or between workers, the subscriber's language, 410 clean-up, retry on 429, status changes, staff notices,
the API and its guards."""

import json
import os
import stat
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlmodel import Session, func, select

from pwa_app.appointments.booking import verifier_of
from pwa_app.common import codes
from pwa_app.common.i18n import TZ
from pwa_app.models import Appointment, PushDelivery, PushEvent, PushLink, PushSubscription, PushTopic, ServiceRequest
from pwa_app.notifications import push_delivery
from pwa_app.common import encoding
from pwa_app.notifications import webpush
from pwa_app.notifications import rounds
from pwa_app.common import times
from pwa_app.notifications import push
from pwa_app.service_requests import intake, workflow
from pwa_app.service_requests import rules
from tests.unit.conftest import Clock, override_settings
from tests.unit.test_push_receiver import Device, PushReceiver, b64url
from tests.unit.test_staff_auth import client, people, staff_env  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
START = Clock.at(2026, 12, 3, 10, 0)  # a Thursday, 10:00 in Madrid
BOOKED = Clock.at(2026, 11, 27, 12, 0)


@pytest.fixture
def vapid(tmp_path, monkeypatch):
    override_settings(monkeypatch, CITA_VAPID_DIR=str(tmp_path / "vapid"))
    override_settings(monkeypatch, CITA_PUSH_HOSTS="127.0.0.1")
    webpush.keys.cache_clear()
    yield webpush.keys()
    webpush.keys.cache_clear()


@pytest.fixture
def receiver(vapid):
    found = PushReceiver(expected_key=vapid.public_key)
    yield found
    found.close()
    assert found.errors == [], found.errors  # every send carried a valid JWT, TTL and decryptable body


@pytest.fixture
def factory(engine):
    return lambda: Session(engine, expire_on_commit=False)


@pytest.fixture
def worker(factory, vapid):
    found = rounds.Worker(factory, push_delivery.Sender(vapid, concurrency=8))
    yield found
    found.close()


def make_appointment(session, start=START, booked=BOOKED, procedure_id=1, office_id=1, document="12345678Z"):
    appt = Appointment(code=codes.new_code(), procedure_id=procedure_id, office_id=office_id, starts_at=start, seat=1,
                       name="Ana García", document=document, created_at=booked)
    session.add(appt)
    session.commit()
    return appt


def make_request(session, clock, lang="es"):
    req = intake.submit(session, {"type": "incidencia-via-publica", "description": "Farola apagada en la plaza.",
                                    "address": "Plaza Mayor, 1", "consent": True, "lang": lang}, now=clock.now)
    session.commit()
    return req


def follow(session, receiver, *, lang="es", topics=("reminders", "updates"), appointments=(), requests=(),
           now=Clock().now):
    """A device subscribes with its saved codes; returns its subscription as the browser knows it."""
    sub = receiver.subscribe()
    state = push.subscribe(session, sub, lang=lang, topics=list(topics),
                             appointments=[{"code": a.code, "verifier": verifier_of(a)} for a in appointments],
                             requests=[r.code for r in requests], now=now)
    session.commit()
    assert len(state["appointments"]) == len(appointments) and len(state["requests"]) == len(requests)
    return sub


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def deliveries(session) -> list[PushDelivery]:
    """The deliveries as the workers left them (fresh from the database, and the SQLite write lock let go)."""
    session.expire_all()
    rows = session.exec(select(PushDelivery).order_by(PushDelivery.id)).all()
    session.commit()
    return rows


# --- keys -----------------------------------------------------------------------------------------------------


def test_vapid_keys_are_made_once_outside_the_repository(tmp_path, monkeypatch):
    override_settings(monkeypatch, CITA_VAPID_DIR=None)
    override_settings(monkeypatch, XDG_DATA_HOME=str(tmp_path / "data"))
    assert webpush.vapid_dir() == tmp_path / "data" / "cita" and ROOT not in webpush.vapid_dir().parents
    override_settings(monkeypatch, XDG_DATA_HOME=None)
    assert webpush.vapid_dir() == Path.home() / ".local" / "share" / "cita"
    folder = tmp_path / "keys"
    found = []
    threads = [threading.Thread(target=lambda: found.append(webpush.load_keys(folder).public_key)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(found)) == 1  # several workers starting at once agree on one key
    assert len(encoding.b64url_decode(found[0])) == 65 and encoding.b64url_decode(found[0])[0] == 4
    assert stat.S_IMODE((folder / webpush.KEY_FILE).stat().st_mode) == 0o600
    assert [p.name for p in folder.iterdir()] == [webpush.KEY_FILE]
    assert webpush.load_keys(folder).public_key == found[0]
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "instance/" in ignored


def test_the_page_reads_the_public_key(api, vapid):
    answer = api.get("/api/v1/push/key")
    assert answer.status_code == 200
    body = answer.json()
    assert body["public_key"] == vapid.public_key
    assert {"reminders", "updates", "news", "office:junta-distrito-norte", "area:padron"} <= set(body["topics"])


# --- subscribing ----------------------------------------------------------------------------------------------


def test_subscribing_links_the_devices_codes_and_its_topics(api, engine, clock, vapid):
    with Session(engine, expire_on_commit=False) as s:
        mine, other = make_appointment(s), make_appointment(s, start=START + timedelta(hours=1))
        req = make_request(s, clock)
    device = Device()
    sub = device.subscription("http://127.0.0.1:9/push/abc")
    body = {"subscription": sub, "lang": "en",
            "topics": ["reminders", "updates", "office:junta-distrito-norte", "office:nowhere", "admin"],
            "appointments": [{"code": codes.format_code(mine.code), "verifier": verifier_of(mine)},
                             {"code": other.code, "verifier": "0000"}],  # a wrong verifier links nothing
            "requests": [rules.format_code(req.code), "ZZZZZZZZZZZZZZZZ"]}
    answer = api.put("/api/v1/push/subscription", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"topics": ["office:junta-distrito-norte", "reminders", "updates"], "lang": "en",
                             "appointments": [mine.code], "requests": [req.code]}
    assert answer.headers["cache-control"] == "no-store"
    # PUT again with fewer topics: they are replaced, not added.
    answer = api.put("/api/v1/push/subscription", json={**body, "topics": ["updates"]})
    assert answer.json()["topics"] == ["updates"]
    with Session(engine) as s:
        assert count(s, PushSubscription) == 1 and count(s, PushTopic) == 1 and count(s, PushLink) == 2
    # Someone who knows the endpoint but not the auth secret can change nothing.
    stolen = {**body, "subscription": {**sub, "keys": {**Device().subscription("")["keys"]}}}
    answer = api.put("/api/v1/push/subscription", json=stolen)
    assert answer.status_code == 403 and answer.json()["codes"] == {"subscription": "push_not_yours"}
    assert api.request("DELETE", "/api/v1/push/subscription",
                       json={"endpoint": sub["endpoint"], "auth": b64url(os.urandom(16))}).json() == {"removed": False}
    answer = api.request("DELETE", "/api/v1/push/subscription",
                         json={"endpoint": sub["endpoint"], "auth": sub["keys"]["auth"]})
    assert answer.json() == {"removed": True}
    with Session(engine) as s:
        assert count(s, PushSubscription) == count(s, PushTopic) == count(s, PushLink) == 0


@pytest.mark.parametrize("endpoint", [
    "https://evil.example/push/1",  # not a push service: the server would POST wherever it is told
    "http://127.0.0.1:5432/",  # plain http to a local service, not in CITA_PUSH_HOSTS
    "https://user:pw@fcm.googleapis.com/fcm/send/x",
    "ftp://fcm.googleapis.com/x",
])
def test_subscriptions_to_other_addresses_are_refused(api, endpoint, monkeypatch):
    override_settings(monkeypatch, CITA_PUSH_HOSTS=None)
    answer = api.put("/api/v1/push/subscription",
                     json={"subscription": Device().subscription(endpoint), "lang": "es", "topics": ["news"]})
    assert answer.status_code == 422 and answer.json()["codes"] == {"subscription": "push_subscription"}


def test_subscriptions_with_bad_keys_are_refused(api, vapid):
    sub = Device().subscription("http://127.0.0.1:9/push/x")
    for keys in ({"p256dh": "AAAA", "auth": sub["keys"]["auth"]}, {"p256dh": sub["keys"]["p256dh"], "auth": "AAAA"},
                 {"p256dh": b64url(b"\x04" + b"\x01" * 64), "auth": sub["keys"]["auth"]}):  # not a curve point
        answer = api.put("/api/v1/push/subscription", json={"subscription": {**sub, "keys": keys}, "lang": "es"})
        assert answer.status_code == 422, keys


def test_the_browsers_push_services_are_accepted(monkeypatch):
    override_settings(monkeypatch, CITA_PUSH_HOSTS=None)
    assert all(push.check_endpoint(e) for e in (
        "https://fcm.googleapis.com/fcm/send/abc:def", "https://updates.push.services.mozilla.com/wpush/v2/gAAA",
        "https://web.push.apple.com/QGuQyavXutnMH", "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAD"))
    assert not push.check_endpoint("https://fcm.googleapis.com.evil.example/x")
    override_settings(monkeypatch, CITA_PUSH_HOSTS="*")
    assert push.check_endpoint("https://push.example.org/x") and not push.check_endpoint("https://localhost/x")


# --- reminders ------------------------------------------------------------------------------------------------


def test_reminders_24h_and_2h_before_in_each_subscribers_language(session, worker, receiver):
    appt = make_appointment(session)
    spanish = follow(session, receiver, lang="es", appointments=[appt])
    english = follow(session, receiver, lang="en", appointments=[appt])
    worker.tick(START - timedelta(hours=25))
    assert receiver.messages() == []
    at = START - timedelta(hours=24) + timedelta(minutes=1)
    worker.tick(at)
    [es], [en] = receiver.messages(spanish["endpoint"]), receiver.messages(english["endpoint"])
    assert es.payload["title"] == "Recordatorio de cita: Alta en el padrón (empadronamiento)"
    # No booking code on a lock screen: the code and the verifier are all it takes to open the booking.
    assert es.payload["body"] == ("jueves, 3 de diciembre de 2026 a las 10:00, Oficina de Atención a la Ciudadanía "
                                  "(OAC) – Casa Consistorial.")
    assert en.payload["title"].startswith("Appointment reminder: ") and en.payload["title"] != es.payload["title"]
    assert "Thursday, December 3, 2026 at 10:00" in en.payload["body"]
    assert "Citizen Service Office" in en.payload["body"]  # the office's name in English (content translation)
    assert es.payload["url"] == f"/es/cita/?c={appt.code}" and en.payload["url"] == f"/en/cita/?c={appt.code}"
    assert es.payload["tag"] == f"appointment-{appt.code}" and es.payload["lang"] == "es"
    assert es.urgency == "normal" and abs(es.ttl - (START - at).total_seconds()) < 5
    assert es.claims["sub"].startswith("mailto:") and es.topic and len(es.topic) <= 32
    worker.tick(START - timedelta(hours=5))  # between the two: nothing new
    assert len(receiver.messages()) == 2
    at = START - timedelta(hours=2) + timedelta(minutes=1)
    worker.tick(at)
    es2 = receiver.messages(spanish["endpoint"])[-1]
    assert es2.payload["title"] == "Su cita es pronto: Alta en el padrón (empadronamiento)"
    assert es2.urgency == "high" and es2.payload["tag"] == es.payload["tag"] and es2.topic == es.topic
    shown = [m.payload[k] for m in (es, en, es2) for k in ("title", "body")]
    assert not [t for t in shown if appt.code in t or codes.format_code(appt.code) in t]
    assert abs(es2.ttl - (START - at).total_seconds()) < 5
    for later in (START - timedelta(minutes=30), START + timedelta(minutes=1)):
        worker.tick(later)
    assert len(receiver.messages()) == 4


def test_no_reminder_for_what_was_just_booked_cancelled_moved_or_unfollowed(session, worker, receiver):
    late = make_appointment(session, booked=START - timedelta(hours=10))  # booked within the last day
    cancelled = make_appointment(session, start=START + timedelta(minutes=15))
    moved = make_appointment(session, start=START + timedelta(minutes=30))
    unfollowed = make_appointment(session, start=START + timedelta(minutes=45))
    follow(session, receiver, appointments=[late, cancelled, moved])
    follow(session, receiver, topics=("updates",), appointments=[unfollowed])  # no "reminders" topic
    cancelled.status = "cancelled"
    session.add(cancelled)
    session.commit()
    at = START - timedelta(hours=23)
    push.schedule_reminders(session, at)
    session.commit()
    moved.starts_at = START + timedelta(days=7)  # moved after its reminder was queued
    session.add(moved)
    session.commit()
    worker.tick(at)
    assert receiver.messages() == []
    worker.tick(START - timedelta(hours=2))  # the late booking still gets the 2 h one
    assert [m.payload["url"].endswith(late.code) for m in receiver.messages()] == [True]


def _run_once(engine, moment, env_extra):
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False), **env_extra}
    done = subprocess.run([sys.executable, "-m", "pwa_app.notifications.rounds", "run-once", "--now", moment.isoformat()],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.real_clock  # a restarted worker process signs its VAPID tokens with the real time
def test_no_duplicate_reminders_between_workers_or_across_a_restart(engine, session, receiver, vapid):
    appt = make_appointment(session)
    sub = follow(session, receiver, appointments=[appt])
    at = START - timedelta(hours=24)
    # Two workers (their own engines, as two processes would have) wake up at the same moment.
    from pwa_app.db import make_engine

    engines = [make_engine(engine.url.render_as_string(hide_password=False)) for _ in range(3)]
    workers = [rounds.Worker(lambda e=e: Session(e, expire_on_commit=False), push_delivery.Sender(vapid, concurrency=4))
               for e in engines]
    barrier = threading.Barrier(len(workers))
    totals, lock = Counter(), threading.Lock()

    def run(w):
        barrier.wait()
        counts = w.tick(at)
        with lock:
            totals.update(counts)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for w, e in zip(workers, engines):
        w.close()
        e.dispose()
    assert len(receiver.messages(sub["endpoint"])) == 1
    assert totals["reminders"] == 1 and totals["sent"] == 1
    # The app restarts (a new process, new engine, new sender) and runs again a minute later, then twice more.
    env = {"CITA_VAPID_DIR": os.environ["CITA_VAPID_DIR"], "CITA_PUSH_HOSTS": "127.0.0.1"}
    assert _run_once(engine, at + timedelta(minutes=1), env)["sent"] == 0
    assert _run_once(engine, at + timedelta(hours=3), env)["sent"] == 0
    assert len(receiver.messages(sub["endpoint"])) == 1
    # The 2 h reminder is sent by the restarted process, once.
    assert _run_once(engine, START - timedelta(hours=2), env)["sent"] == 1
    assert _run_once(engine, START - timedelta(hours=1), env)["sent"] == 0
    assert [m.payload["title"].split(":")[0] for m in receiver.messages()] == ["Recordatorio de cita",
                                                                               "Su cita es pronto"]
    assert count(session, PushEvent) == 2


def test_concurrent_workers_on_postgresql_send_each_reminder_once(pg_engine, vapid, monkeypatch):
    receiver = PushReceiver(expected_key=vapid.public_key)
    from pwa_app.db import make_engine

    url = pg_engine.url.render_as_string(hide_password=False)
    try:
        with Session(pg_engine, expire_on_commit=False) as s:
            appts = [make_appointment(s, start=START + timedelta(minutes=15 * i), document=f"{i:08d}A")
                     for i in range(5)]
            subs = [follow(s, receiver, appointments=appts) for _ in range(4)]
        engines = [make_engine(url) for _ in range(4)]
        workers = [rounds.Worker(lambda e=e: Session(e, expire_on_commit=False), push_delivery.Sender(vapid, concurrency=8))
                   for e in engines]
        barrier = threading.Barrier(len(workers))
        totals, lock = Counter(), threading.Lock()

        def run(w):
            barrier.wait()
            for minutes in (0, 1, 2):
                counts = w.tick(START - timedelta(hours=24) + timedelta(minutes=minutes + 60))
                with lock:
                    totals.update(counts)

        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for w, e in zip(workers, engines):
            w.close()
            e.dispose()
        for sub in subs:
            assert sorted(m.payload["url"] for m in receiver.messages(sub["endpoint"])) == \
                sorted(f"/es/cita/?c={a.code}" for a in appts)
        assert sum(receiver.attempts.values()) == 20 and receiver.errors == []
        assert totals["reminders"] == 5 and totals["fanned_out"] == 20 and totals["sent"] == 20
    finally:
        receiver.close()
        with Session(pg_engine) as s:
            for model in (PushDelivery, PushEvent, PushLink, PushTopic, PushSubscription):
                s.execute(delete(model))
            s.commit()


# --- request status changes -------------------------------------------------------------------------------------


def test_every_public_status_change_reaches_the_followers_in_their_language(session, clock, worker, receiver):
    req = make_request(session, clock)
    spanish = follow(session, receiver, lang="es", requests=[req])
    english = follow(session, receiver, lang="en", requests=[req])
    follow(session, receiver, lang="es", topics=("reminders",), requests=[req])  # did not ask for updates
    workflow.change_status(session, req, "assigned", department="vias-publicas", now=clock.now)
    session.commit()
    worker.tick(clock.now)
    [es], [en] = receiver.messages(spanish["endpoint"]), receiver.messages(english["endpoint"])
    assert es.payload["title"] == "Su solicitud: Asignada" and en.payload["title"] == "Your request: Assigned"
    assert en.payload["body"] == "The department responsible has your request and will look at it soon."
    assert es.payload["url"] == f"/es/solicitud/?c={req.code}" and en.payload["tag"] == f"request-{req.code}"
    assert abs(es.ttl - push.STATUS_TTL) < 5 and es.urgency == "normal"
    workflow.change_status(session, req, "waiting_citizen", comment="Indique el número de la farola, por favor.",
                           now=clock.moved(hours=1).now)
    session.commit()
    worker.tick(clock.moved(hours=1).now)
    last = receiver.messages(spanish["endpoint"])[-1]
    assert last.payload["title"] == "Su solicitud: Esperando su respuesta"
    assert last.payload["body"].endswith("\nIndique el número de la farola, por favor.")
    assert len(receiver.messages()) == 4


def test_a_status_change_of_an_unfollowed_request_queues_nothing(session, clock):
    req = make_request(session, clock)
    workflow.change_status(session, req, "in_progress", now=clock.now)
    session.commit()
    assert count(session, PushEvent) == 0


def test_a_broken_push_table_never_stops_a_status_change(session, clock, monkeypatch):
    req = make_request(session, clock)

    def broken(*args, **kwargs):
        raise RuntimeError("database trouble")

    monkeypatch.setattr(push, "select", broken)
    change = workflow.change_status(session, req, "in_progress", now=clock.now)
    session.commit()
    assert change.id and session.get(ServiceRequest, req.id).status == "in_progress"


# --- answers of the push service -----------------------------------------------------------------------------------


def test_gone_subscriptions_are_removed(session, clock, worker, receiver):
    req = make_request(session, clock)
    gone, kept = follow(session, receiver, requests=[req]), follow(session, receiver, requests=[req])
    receiver.respond(gone["endpoint"], 410)
    receiver.forget(kept["endpoint"])  # answers 404: also gone
    still = follow(session, receiver, requests=[req])
    workflow.change_status(session, req, "in_progress", now=clock.now)
    session.commit()
    counts = worker.tick(clock.now)
    assert counts["gone"] == 2 and counts["sent"] == 1
    endpoints = session.exec(select(PushSubscription.endpoint)).all()
    assert endpoints == [still["endpoint"]]
    assert count(session, PushLink) == 1 and count(session, PushTopic) == 2
    assert count(session, PushDelivery) == 1


def test_429_and_5xx_are_retried_with_back_off(session, clock, worker, receiver):
    req = make_request(session, clock)
    busy, broken = follow(session, receiver, requests=[req]), follow(session, receiver, requests=[req])
    receiver.respond(busy["endpoint"], (429, {"Retry-After": "30"}))
    receiver.respond(broken["endpoint"], 503, 502)
    workflow.change_status(session, req, "in_progress", now=clock.now)
    session.commit()
    now = clock.now
    assert worker.tick(now)["retry"] == 2
    waits = sorted(round((times.utc_or_now(d.next_at) - now).total_seconds()) for d in deliveries(session))
    assert waits[1] == 30 and 12 <= waits[0] <= 18  # Retry-After honoured; else 15 s with jitter
    counts = worker.tick(now + timedelta(seconds=20))
    assert counts["sent"] == 0 and counts["retry"] == 1  # the 5xx one failed again (502); the 429 one waits
    assert receiver.attempts[busy["endpoint"]] == 1
    [broken_row] = [d for d in deliveries(session) if d.tries == 2]
    assert 20 + 24 <= (times.utc_or_now(broken_row.next_at) - now).total_seconds() <= 20 + 36  # 30 s ± 20 %: doubled
    counts = worker.tick(now + timedelta(seconds=31))
    assert counts["sent"] == 1 and counts["retry"] == 0  # the 429 one went, after its Retry-After
    assert len(receiver.messages(busy["endpoint"])) == 1 and receiver.attempts[busy["endpoint"]] == 2
    assert worker.tick(now + timedelta(minutes=5))["sent"] == 1
    assert receiver.attempts[broken["endpoint"]] == 3 and len(receiver.messages(broken["endpoint"])) == 1
    assert {d.status for d in deliveries(session)} == {"sent"}
    assert worker.tick(now + timedelta(hours=1))["sent"] == 0  # nothing is sent twice


def test_a_push_service_that_cannot_be_reached_is_retried_until_the_message_expires(session, clock, worker,
                                                                                       receiver):
    req = make_request(session, clock)
    follow(session, receiver, requests=[req])
    receiver.close()  # connection refused from now on
    workflow.change_status(session, req, "in_progress", now=clock.now)
    session.commit()
    assert worker.tick(clock.now)["retry"] == 1
    [delivery] = deliveries(session)
    assert delivery.last_status == 0 and "Connect" in delivery.last_error
    counts = worker.tick(clock.moved(days=4).now)  # past its TTL (3 days)
    assert counts["expired"] == 1 and counts["sent"] == 0
    assert [d.status for d in deliveries(session)] == ["expired"]


# --- staff notices --------------------------------------------------------------------------------------------


def test_a_notice_reaches_the_followers_of_its_topic_in_their_language(session, worker, receiver, clock):
    north = [follow(session, receiver, lang=lang, topics=("office:junta-distrito-norte",))
             for lang in ("es", "en", "fr")]
    elsewhere = follow(session, receiver, lang="es", topics=("news", "office:oac-casa-consistorial"))
    push.send_notice(session, "office:junta-distrito-norte", {
        "es": {"title": "Corte de agua", "body": "El martes no habrá atención en la Junta de Distrito Norte."},
        "en": {"title": "Water cut", "body": "No service at the North District Office on Tuesday."},
    }, url="/{lang}/tramite/?p=alta-padron", now=clock.now)
    session.commit()
    worker.tick(clock.now)
    [es], [en], [fr] = (receiver.messages(s["endpoint"]) for s in north)
    assert (es.payload["title"], en.payload["title"], fr.payload["title"]) == ("Corte de agua", "Water cut",
                                                                               "Corte de agua")
    assert en.payload["url"] == "/en/tramite/?p=alta-padron" and fr.payload["url"] == "/fr/tramite/?p=alta-padron"
    assert receiver.messages(elsewhere["endpoint"]) == []
    with pytest.raises(push.PushError):
        push.send_notice(session, "reminders", {"es": {"title": "x", "body": "y"}})
    with pytest.raises(push.PushError):
        push.send_notice(session, "news", {"en": {"title": "Only English", "body": "y"}})
    with pytest.raises(push.PushError):
        push.send_notice(session, "news", {"es": {"title": "<b>x</b>", "body": "y"}})
    with pytest.raises(push.PushError):
        push.send_notice(session, "news", {"es": {"title": "x", "body": "y"}}, url="https://evil.example/")


def test_the_staff_notice_api_is_guarded(client, people, staff_env):  # noqa: F811
    body = {"topic": "office:oac-casa-consistorial", "texts": {"es": {"title": "Aviso", "body": "Texto del aviso."}}}
    client.cookies.clear()
    assert client.post("/api/staff/push/notices", json=body).status_code == 401
    assert client.get("/api/staff/push/topics").status_code == 401
    client.cookies.set("cita_staff", people["desk"][1])
    assert client.post("/api/staff/push/notices", json=body).status_code == 403
    client.cookies.set("cita_staff", people["manager"][1])  # manager of the first office only
    assert client.post("/api/staff/push/notices", json=body).status_code == 201
    assert client.post("/api/staff/push/notices", json={**body, "topic": "office:junta-distrito-norte"}
                       ).status_code == 403
    assert client.post("/api/staff/push/notices", json={**body, "topic": "news"}).status_code == 403
    assert client.post("/api/staff/push/notices", json=body,
                       headers={"Origin": "https://evil.example"}).status_code == 403
    client.cookies.set("cita_staff", people["admin"][1])
    answer = client.post("/api/staff/push/notices", json={**body, "topic": "news"})
    assert answer.status_code == 201 and answer.json()["followers"] == 0
    assert client.post("/api/staff/push/notices", json={**body, "topic": "updates"}).status_code == 422
    topics = client.get("/api/staff/push/topics").json()
    assert topics["subscriptions"] == 0 and "office:junta-distrito-norte" in topics["topics"]
    with Session(staff_env) as s:
        assert count(s, PushEvent) == 2


def test_old_deliveries_events_and_forgotten_browsers_are_purged(session, clock, worker, receiver):
    req = make_request(session, clock)
    follow(session, receiver, requests=[req])
    workflow.change_status(session, req, "in_progress", now=clock.now)
    session.commit()
    worker.tick(clock.now)
    assert count(session, PushDelivery) == count(session, PushEvent) == 1
    session.commit()
    assert push_delivery.purge(session, clock.moved(days=31).now) == 2  # the sent delivery and its event
    session.commit()
    assert count(session, PushSubscription) == 1
    assert push_delivery.purge(session, clock.moved(days=402).now) == 1  # nothing for over a year
    session.commit()
    assert count(session, PushSubscription) == count(session, PushLink) == count(session, PushTopic) == 0


def test_a_closure_tells_the_devices_following_a_cancelled_appointment(session, worker, receiver):
    from pwa_app.staff import schedules
    from pwa_app.staff import auth

    appt = make_appointment(session)
    device = follow(session, receiver, lang="en", appointments=[appt])
    admin = auth.viewer_of(session, auth.create_user(session, "admin@ayto.es", "Ana", "admin", "una clave larga 2026"))
    moment = BOOKED + timedelta(hours=1)
    schedules.add_closure(session, admin, appt.office_id, START.astimezone(TZ).date(), "Corte de luz",
                      on_conflict="cancel", now=moment)
    session.commit()
    worker.tick(moment + timedelta(minutes=1))
    [told] = receiver.messages(device["endpoint"])
    assert told.payload["title"] == "Appointment cancelled: Registering on the padrón (empadronamiento)"
    assert told.payload["body"] == "The office is closed on Thursday, December 3, 2026 (Corte de luz). Please book " \
                                   "another time."
    assert told.payload["url"] == "/en/reservar/?p=alta-padron" and told.urgency == "high"
    assert told.payload["tag"] == f"appointment-{appt.code}"  # it replaces the appointment's reminders
    worker.tick(START - timedelta(hours=24) + timedelta(minutes=1))
    assert len(receiver.messages(device["endpoint"])) == 1  # and no reminder follows for a cancelled appointment
