// Cita's web push client ("Notify me"): subscribing this browser only when the citizen taps the button, choosing
// topics, turning it off. No account: the subscription travels with the codes saved on this device (appointment
// codes with their verifiers, request tracking codes), and the server links them. The service worker shows the
// messages (pwa_app/pwa/sw.js). Like the rest of the data module, nothing here reads Reflex backend state.
import { useEffect, useSyncExternalStore } from "react";
import { catalogueKey, codeKey, fetchJson, get, loaded, set, useIdbValue, useOnline, useParam, useSaved } from "./offline.js";

const STATE = "push"; // saved: {endpoint, auth, lang, topics, appointments, requests, synced}
const JSON_HEADERS = { "Content-Type": "application/json", Accept: "application/json" };

// ---- what the panel shows while something happens (not saved: a reload starts calm) ----
const idle = { busy: false, message: "", supported: false, checked: false };
let ui = idle;
const uiListeners = new Set();
const setUi = (changes) => { ui = { ...ui, ...changes }; uiListeners.forEach((l) => l()); };
const onUi = (l) => (uiListeners.add(l), () => uiListeners.delete(l));

export const pushSupported = () => typeof window !== "undefined" && "serviceWorker" in navigator &&
  "PushManager" in window && "Notification" in window;

// The codes saved on this device, as the server links them.
function savedCodes() {
  const appointments = Object.entries(get("appointments", {}) || {})
    .filter(([, a]) => a && a.verifier)
    .map(([code, a]) => ({ code, verifier: a.verifier }));
  return { appointments, requests: Object.keys(get("requests", {}) || {}) };
}

const fingerprint = (lang, topics, codes) => JSON.stringify([lang, [...topics].sort(),
  codes.appointments.map((a) => a.code).sort(), [...codes.requests].sort()]);

async function browserSubscription(create) {
  const registration = await navigator.serviceWorker.ready;
  const found = await registration.pushManager.getSubscription();
  if (found || !create) return found;
  const { status, body } = await fetchJson("/push/key");
  if (status !== 200) throw new Error(`key ${status}`);
  return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: body.public_key }); // base64url, as the Push API takes it
}

// PUT is idempotent: the server's topics and links become exactly what this sends.
async function save(lang, topics, subscription) {
  const codes = savedCodes();
  const json = subscription.toJSON();
  const { status, body } = await fetchJson("/push/subscription", {
    method: "PUT", headers: JSON_HEADERS, body: JSON.stringify({ subscription: json, lang, topics, ...codes }) });
  if (status !== 200) throw Object.assign(new Error(`subscription ${status}`), { status });
  await set(STATE, { endpoint: json.endpoint, auth: json.keys.auth, lang: body.lang, topics: body.topics,
    appointments: body.appointments, requests: body.requests, synced: fingerprint(lang, body.topics, codes) });
  return body;
}

const failure = () => (navigator.onLine ? "failed" : "offline");

// The "Notify me about this appointment / request" button. The permission prompt comes first, straight from
// the tap (browsers allow it only from a user action); then the subscription, then the server.
export async function turnOnPush(lang, kind) {
  if (!pushSupported()) return setUi({ message: "unsupported" });
  if (!navigator.onLine) return setUi({ message: "offline" });
  setUi({ busy: true, message: "" });
  try {
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      return setUi({ busy: false, message: permission === "denied" ? "denied" : "dismissed" });
    }
    const subscription = await browserSubscription(true);
    const state = get(STATE, null);
    const topics = new Set(state && state.endpoint === subscription.endpoint ? state.topics : []);
    topics.add(kind === "appointment" ? "reminders" : "updates");
    await save(lang, [...topics], subscription);
    setUi({ busy: false, message: "on" });
  } catch (error) {
    console.warn("Cita: notifications could not be turned on", error);
    setUi({ busy: false, message: failure() });
  }
}

export async function togglePushTopic(lang, topic) {
  const state = get(STATE, null);
  if (!state || ui.busy) return;
  if (!navigator.onLine) return setUi({ message: "offline" });
  setUi({ busy: true, message: "" });
  try {
    const subscription = await browserSubscription(false);
    if (!subscription) { // the browser dropped it (permission taken back): show the button again
      await set(STATE, null);
      return setUi({ busy: false, message: "" });
    }
    const topics = new Set(state.topics);
    if (topics.has(topic)) topics.delete(topic); else topics.add(topic);
    await set(STATE, { ...state, topics: [...topics] }); // the box shows the choice at once
    await save(lang, [...topics], subscription);
    setUi({ busy: false, message: "saved" });
  } catch (error) {
    console.warn("Cita: the notification topics could not be changed", error);
    await set(STATE, state); // as the server still has it
    setUi({ busy: false, message: failure() });
  }
}

export async function turnOffPush() {
  const state = get(STATE, null);
  if (ui.busy) return;
  if (!navigator.onLine) return setUi({ message: "offline" });
  setUi({ busy: true, message: "" });
  try {
    if (state) {
      const { status } = await fetchJson("/push/subscription", {
        method: "DELETE", headers: JSON_HEADERS,
        body: JSON.stringify({ endpoint: state.endpoint, auth: state.auth }) });
      if (status !== 200) throw new Error(`unsubscribe ${status}`);
    }
    const subscription = pushSupported() ? await browserSubscription(false) : null;
    if (subscription) await subscription.unsubscribe();
    await set(STATE, null);
    setUi({ busy: false, message: "off" });
  } catch (error) {
    console.warn("Cita: notifications could not be turned off", error);
    setUi({ busy: false, message: failure() });
  }
}

// After hydration: is push possible here, and is the saved subscription still the browser's? Then, whenever the
// device has codes (or a language) the server has not linked yet, send them: bookings made after subscribing
// get their reminders too.
let syncing = null;
async function sync(lang) {
  if (syncing || ui.busy || !navigator.onLine || !pushSupported()) return; // a tap is already saving
  syncing = (async () => {
    await loaded;
    const state = get(STATE, null);
    if (!state) return;
    const subscription = await browserSubscription(false);
    if (!subscription) return set(STATE, null);
    const same = subscription.endpoint === state.endpoint;
    if (same && fingerprint(lang, state.topics, savedCodes()) === state.synced) return;
    await save(lang, state.topics, subscription);
  })().catch((error) => console.warn("Cita: notification settings not synchronised yet", error))
    .finally(() => { syncing = null; });
  return syncing;
}

export function usePush(lang, kind) {
  const online = useOnline();
  const code = useParam("c");
  const state = useIdbValue(STATE, null);
  const appointments = useIdbValue("appointments", {});
  const requests = useIdbValue("requests", {});
  const cat = useSaved(catalogueKey, lang);
  const u = useSyncExternalStore(onUi, () => ui, () => idle);
  useEffect(() => { setUi({ supported: pushSupported(), checked: true }); }, []);
  useEffect(() => { sync(lang); }, [lang, state, appointments, requests, online]);
  const key = codeKey(code);
  const topics = (state && state.topics) || [];
  const linked = !!state && ((kind === "appointment" ? state.appointments : state.requests) || []).includes(key);
  const has = (topic) => topics.includes(topic);
  return {
    supported: u.supported, unsupported: u.checked && !u.supported, online, busy: u.busy, message: u.message,
    on: !!state, here: linked && has(kind === "appointment" ? "reminders" : "updates"),
    reminders: has("reminders"), updates: has("updates"), news: has("news"),
    offices: ((cat && cat.offices) || []).map((o) => ({ slug: o.slug, name: o.name, on: has(`office:${o.slug}`) })),
    areas: ((cat && cat.areas) || []).map((a) => ({ slug: a.slug, name: a.name, on: has(`area:${a.slug}`) })),
  };
}
