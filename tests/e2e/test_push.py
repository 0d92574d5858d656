"""Web push in Debian chromium: "Notify me" on the request and appointment pages, a real message from the app's
push worker to the local push service (tests/unit/test_push_receiver.py), the service worker showing it, and a
tap on it opening the right page.

How it is driven (what works in headless chromium here):
- `pushManager.subscribe` fails in headless chromium, so the page's PushManager is replaced by an init script with
  one that hands out a subscription made by the test: its endpoint is on the local push service and its keys are
  the test's own, so the receiver decrypts what the app really sent (VAPID JWT checked, aes128gcm).
- The notifications permission is granted to the context first.
- CDP `ServiceWorker.deliverPushMessage` (registration id from `ServiceWorker.workerRegistrationUpdated` after
  `ServiceWorker.enable`) hands the decrypted message to the service worker's `push` handler; the notification is
  then read back with `registration.getNotifications()`.
- There is no CDP command that clicks a notification. A `notificationclick` event dispatched inside the service
  worker (`new NotificationEvent("notificationclick", {notification})` through Playwright's worker handle) runs
  our handler, which sends the open Cita window to the notification's page. Such a synthetic event carries no user
  activation, so `clients.openWindow` (used when no Cita window is open) is refused ("Not allowed to open a
  window") and `focus()` rejects: that branch is checked with `clients.openWindow` stubbed to record its address.
"""

import json
import os
import re
import tempfile
import urllib.request
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from pwa_app.common import codes
from pwa_app.common.times import utcnow
from pwa_app.models import Appointment, PushLink, PushSubscription, PushTopic
from pwa_app.service_requests import intake, workflow
from pwa_app.service_requests import rules
from tests.e2e.conftest import wait_hydrated
from tests.unit.test_push_receiver import Device, PushReceiver

# The shared app server takes its environment from this process when it starts, after collection: it may send to
# the local push service on 127.0.0.1, keeps its VAPID keys in a temporary folder, and looks for due messages
# every second (for reminders every 2 s).
os.environ.setdefault("CITA_PUSH_HOSTS", "127.0.0.1")
os.environ.setdefault("CITA_VAPID_DIR", tempfile.mkdtemp(prefix="cita-vapid-"))
os.environ.setdefault("CITA_PUSH_INTERVAL", "1")
os.environ.setdefault("CITA_PUSH_SCAN", "2")

STUB = """(() => {
  const sub = %s;
  const fake = { endpoint: sub.endpoint, expirationTime: null, options: { userVisibleOnly: true },
    toJSON: () => sub, getKey: () => null,
    unsubscribe: async () => { localStorage.removeItem("test-push"); return true; } };
  PushManager.prototype.subscribe = async function () { localStorage.setItem("test-push", "1"); return fake; };
  PushManager.prototype.getSubscription = async function () { return localStorage.getItem("test-push") ? fake : null; };
})();"""

NOTIFICATIONS = """navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) => ns.map((n) => ({
  title: n.title, body: n.body, tag: n.tag, icon: n.icon, badge: n.badge, lang: n.lang, data: n.data })))"""

CLICK = """async () => {
  const [notification] = await self.registration.getNotifications();
  self.dispatchEvent(new NotificationEvent("notificationclick", { notification }));
  return notification.data.url;
}"""


@pytest.fixture
def receiver(app_server):
    with urllib.request.urlopen(app_server.base_url + "/api/v1/push/key") as answer:
        key = json.load(answer)["public_key"]
    found = PushReceiver(expected_key=key)
    yield found
    found.close()
    assert found.errors == [], found.errors


@pytest.fixture
def push_context(browser, browser_context_args, app_server):
    """A phone context with notifications allowed. (CSP bypassed for Playwright's own evaluation helpers.)"""
    context = browser.new_context(**browser_context_args, bypass_csp=True)
    context.grant_permissions(["notifications"], origin=app_server.base_url)
    yield context
    context.close()


def open_page(context):
    errors = []
    page = wait_hydrated(context.new_page())
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    return page


def install(page):
    page.goto("/es/")
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=60_000)


def deliver(context, page, origin: str, payload: dict) -> list[dict]:
    """Hands `payload` to the service worker's push handler through CDP; returns the notifications shown. A
    message handed over while the worker is being restarted can be dropped by CDP (a real push service resends
    until it is accepted): it is handed over once more."""
    cdp = context.new_cdp_session(page)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    for _ in range(20):
        live = [r for r in registrations if not r.get("isDeleted")]
        if live:
            break
        page.wait_for_timeout(250)
    for _attempt in range(2):
        cdp.send("ServiceWorker.deliverPushMessage", {"origin": origin, "registrationId": live[0]["registrationId"],
                                                       "data": json.dumps(payload)})
        for _ in range(40):
            shown = page.evaluate(NOTIFICATIONS)
            if any(n["title"] == payload["title"] for n in shown):
                return shown
            page.wait_for_timeout(250)
    return shown


def service_worker(context):
    return context.service_workers[0] if context.service_workers else context.wait_for_event("serviceworker")


def test_notify_me_about_a_request_then_a_status_change_arrives_and_opens_it(push_context, app_server, receiver,
                                                                             shot):
    with app_server.session() as s:
        req = intake.submit(s, {"type": "incidencia-via-publica", "description": "La farola 14 está apagada.",
                                  "address": "Calle del Molino 14", "consent": True, "lang": "es"})
        s.commit()
    device = Device()
    push_context.add_init_script(STUB % json.dumps(receiver.subscribe(device)))
    page = open_page(push_context)
    install(page)
    page.goto(f"/es/solicitud/?c={req.code}")
    button = page.locator("#push-on")
    expect(button).to_have_text("Avisarme de esta solicitud")
    # Offline, the button says it needs a connection (and nothing was asked on page load).
    push_context.set_offline(True)
    expect(button).to_have_text("Las notificaciones necesitan conexión a internet")
    expect(button).to_be_disabled()
    shot(page, "offline")
    push_context.set_offline(False)
    expect(button).to_be_enabled()
    with app_server.session() as s:
        assert s.exec(select(PushSubscription)).all() == []
    button.click()
    expect(page.locator("#push-here")).to_have_text(
        "Este dispositivo recibirá un aviso con cada cambio de esta solicitud.")
    expect(page.locator("#push-updates")).to_be_checked()
    shot(page, "on")
    with app_server.session() as s:
        [sub] = s.exec(select(PushSubscription)).all()
        assert sub.lang == "es" and s.exec(select(PushTopic.topic)).all() == ["updates"]
        assert [link.request_id for link in s.exec(select(PushLink)).all()] == [req.id]

    # The department moves the request: the app's worker sends a push within seconds.
    with app_server.session() as s:
        workflow.change_status(s, rules.find(s, req.code), "assigned", department="vias-publicas")
        s.commit()
    [message] = receiver.wait(1, timeout=30)
    assert message.payload == {"title": "Su solicitud: Asignada", "url": f"/es/solicitud/?c={req.code}",
                               "body": "El departamento responsable tiene su solicitud y la revisará pronto.",
                               "tag": f"request-{req.code}", "kind": "request_status", "lang": "es", "dir": "ltr"}
    assert message.urgency == "normal" and message.ttl > 0

    # The service worker shows it; a tap takes the open window to the request.
    page.goto("/es/")
    [shown] = deliver(push_context, page, app_server.base_url, message.payload)
    assert shown["title"] == "Su solicitud: Asignada" and shown["tag"] == f"request-{req.code}"
    assert shown["icon"].endswith("/icon-192.png") and shown["badge"].endswith("/badge-96.png")
    assert shown["data"]["url"] == f"/es/solicitud/?c={req.code}" and shown["lang"] == "es"
    # A newer message about the same request replaces the older one (same tag).
    [replaced] = deliver(push_context, page, app_server.base_url,
                         {**message.payload, "title": "Su solicitud: En curso"})
    assert replaced["title"] == "Su solicitud: En curso"
    assert service_worker(push_context).evaluate(CLICK) == f"/es/solicitud/?c={req.code}"
    expect(page).to_have_url(re.compile(rf"/es/solicitud/\?c={req.code}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Incidencia en la vía pública")
    assert page.evaluate(NOTIFICATIONS) == []  # closed by the tap

    # Topics change at once; turning off forgets the subscription on the server too.
    page.locator("#push-news").click()
    expect(page.locator("#push-news")).to_be_checked()
    expect(page.locator("#push-status")).to_have_text("Se ha guardado su elección.")
    with app_server.session() as s:
        assert sorted(s.exec(select(PushTopic.topic)).all()) == ["news", "updates"]
    page.locator("#push-off").click()
    expect(page.locator("#push-status")).to_have_text("Las notificaciones están desactivadas en este dispositivo.")
    expect(page.locator("#push-on")).to_be_visible()
    with app_server.session() as s:
        assert s.exec(select(PushSubscription)).all() == [] and s.exec(select(PushTopic)).all() == []
    assert page.errors == []


def test_a_reminder_is_sent_before_the_appointment_and_opens_it(push_context, app_server, receiver, shot):
    start = (utcnow() + timedelta(hours=23, minutes=30)).replace(microsecond=0)
    with app_server.session() as s:
        appt = Appointment(code=codes.new_code(), procedure_id=1, office_id=1, starts_at=start, seat=1,
                           name="Lucía Recordatorio", document="12345678Z", lang="es",
                           created_at=utcnow() - timedelta(days=3))
        s.add(appt)
        s.commit()
    push_context.add_init_script(STUB % json.dumps(receiver.subscribe(Device())))
    page = open_page(push_context)
    install(page)
    # The citizen finds the appointment on this phone, by its code and the end of the document...
    page.goto("/es/mis-citas/")
    page.locator("#field-code").fill(codes.format_code(appt.code))
    page.locator("#field-verifier").fill("678Z")
    page.locator("#field-verifier").press("Enter")
    expect(page.get_by_role("link", name=re.compile("Alta en el padrón"))).to_be_visible()
    # ...and asks for its reminders.
    page.goto(f"/es/cita/?c={appt.code}")
    expect(page.locator("#push-hint")).to_contain_text("el día antes y 2 horas antes")
    page.locator("#push-on").click()
    expect(page.locator("#push-here")).to_have_text("Este dispositivo recibirá recordatorios de esta cita.")
    shot(page, "appointment-on")
    with app_server.session() as s:
        assert [link.appointment_id for link in s.exec(select(PushLink)).all()] == [appt.id]

    # The app's worker finds the appointment less than 24 h away and sends the reminder, once.
    [message] = receiver.wait(1, timeout=30)
    assert message.payload["title"] == "Recordatorio de cita: Alta en el padrón (empadronamiento)"
    assert codes.format_code(appt.code) not in message.payload["body"]  # a lock screen shows no booking code
    assert message.payload["url"] == f"/es/cita/?c={appt.code}" and message.urgency == "normal"
    assert 0 < message.ttl <= (start - utcnow()).total_seconds() + 5
    page.wait_for_timeout(5_000)  # several more rounds of the worker: nothing is sent again
    assert len(receiver.messages()) == 1

    page.goto("/es/")
    [shown] = deliver(push_context, page, app_server.base_url, message.payload)
    assert shown["tag"] == f"appointment-{appt.code}"
    service_worker(push_context).evaluate(CLICK)
    expect(page).to_have_url(re.compile(rf"/es/cita/\?c={appt.code}$"))
    expect(page.get_by_text(codes.format_code(appt.code))).to_be_visible()
    shot(page, "appointment-opened")

    # With no Cita window open, a tap opens a new one at the appointment (openWindow recorded: see above).
    [shown] = deliver(push_context, page, app_server.base_url, message.payload)
    blank = push_context.new_page()
    page.close()
    opened = service_worker(push_context).evaluate("""async () => {
      let opened = null;
      self.clients.openWindow = async (url) => { opened = url; return null; };
      const [notification] = await self.registration.getNotifications();
      self.dispatchEvent(new NotificationEvent("notificationclick", { notification }));
      for (let i = 0; i < 40 && !opened; i++) await new Promise((ok) => setTimeout(ok, 50));
      return opened;
    }""")
    assert opened == app_server.base_url + f"/es/cita/?c={appt.code}"
    blank.close()
