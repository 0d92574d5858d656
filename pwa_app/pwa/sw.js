// Cita's service worker (Workbox 7). Bundled by the PWA plugin after each production build, with the list of
// every page and chunk injected as self.__WB_MANIFEST. Installing it stores the app shell (what every language
// shares) and nothing of any language: the pages ask for theirs (CACHE_LANGS), so a phone stores the language
// it reads in, and another one only once the citizen chooses it, not ten languages on a data plan.
import { openDB } from "idb";
import { clientsClaim } from "workbox-core";
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";
import { CacheFirst, NetworkFirst, StaleWhileRevalidate } from "workbox-strategies";

const MANIFEST = self.__WB_MANIFEST;
// "es/tramite/index.html" and "assets/_es_._tramite_._index-HASH.js" are Spanish; the rest is the shell.
const langOf = (url) => (url.match(/^\/?(?:assets\/_)?([a-z]{2})(?:\/|_\.)/) || [])[1];
const PAGES = "cita-pages";
const pageKey = (url) => "/" + url.replace(/^\//, "").replace(/index\.html$/, "");

// Pages are prerendered per language at /<lang>/<page>/; their data travels in the query string
// (?p=procedure, ?c=code), so any query matches the same stored page.
precacheAndRoute(MANIFEST.filter((e) => !langOf(e.url)), { ignoreURLParametersMatching: [/.*/] });
cleanupOutdatedCaches();
clientsClaim();

// A language's pages and chunks, stored once asked for; a new version stores them again (its chunks are new).
const caching = new Map();
async function cacheLanguage(lang, again = false) {
  const cache = await caches.open(PAGES);
  const urls = MANIFEST.map((e) => e.url).filter((u) => langOf(u) === lang);
  const missing = [];
  for (const u of urls) if (again || !(await cache.match(pageKey(u), { ignoreVary: true }))) missing.push(u);
  await Promise.all(missing.map(async (u) => {
    const response = await fetch(u.startsWith("/") ? u : "/" + u, { cache: "no-cache" });
    if (response.ok) await cache.put(pageKey(u), response);
  }));
}
const cacheLanguages = (langs) => Promise.all([...new Set(langs)].map((lang) => {
  if (!caching.has(lang)) caching.set(lang, cacheLanguage(lang).finally(() => caching.delete(lang)));
  return caching.get(lang);
}));
self.addEventListener("activate", (event) => event.waitUntil((async () => {
  const stored = new Set((await (await caches.open(PAGES)).keys()).map((r) => langOf(new URL(r.url).pathname)));
  await Promise.all([...stored].filter(Boolean).map((lang) => cacheLanguage(lang, true)));
})().catch(() => null)));

// A language's page: the network first (a new version's page names its new chunks), else the stored copy.
const pages = new NetworkFirst({ cacheName: PAGES, networkTimeoutSeconds: 4, matchOptions: { ignoreVary: true },
  plugins: [{ cacheKeyWillBeUsed: async ({ request }) => new URL(request.url).pathname }] });
registerRoute(({ request, url }) => request.mode === "navigate" && langOf(url.pathname), pages);
registerRoute(({ url }) => url.pathname.startsWith("/assets/_") && langOf(url.pathname),
  new CacheFirst({ cacheName: PAGES, matchOptions: { ignoreVary: true } }));

// Any other address inside the app (a page added later, a mistyped one) gets the app shell, which routes it.
registerRoute(new NavigationRoute(createHandlerBoundToURL("/__spa-fallback.html"), {
  denylist: [/^\/api\//, /^\/_event/, /^\/_upload/, /^\/_health/, /^\/ping/, /^\/staff\//],
}));

// Reflex answers with Vary: Origin, which would otherwise stop cached answers from matching.
const matchOptions = { ignoreVary: true };
// The catalogue changes rarely: answer at once from the cache and refresh it behind the scenes.
registerRoute(({ url, request }) => request.method === "GET" && url.pathname === "/api/v1/procedures",
  new StaleWhileRevalidate({ cacheName: "cita-catalogue", matchOptions }));
// Free times change by the minute: ask the network first, fall back to the last answer when offline.
registerRoute(({ url, request }) => request.method === "GET" && url.pathname === "/api/v1/availability",
  new NetworkFirst({ cacheName: "cita-availability", networkTimeoutSeconds: 4, matchOptions }));
// A file sent with a request never changes (its number is its own): kept on the device once seen, for offline.
registerRoute(({ url, request }) => request.method === "GET" && /^\/api\/v1\/requests\/[^/]+\/attachments\/\d+$/
  .test(url.pathname), new CacheFirst({ cacheName: "cita-request-files", matchOptions }));

// The page asks the waiting new version to take over when the citizen taps "update".
self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "SKIP_WAITING") self.skipWaiting();
  if (event.data && event.data.type === "CACHE_LANGS") {
    const reply = () => event.ports[0] && event.ports[0].postMessage(true);
    event.waitUntil(cacheLanguages(event.data.langs).then(reply, reply));
  }
});

// ---- web push (sent by pwa_app/services/notify.py; subscribed by assets/push.js) ----
// A message is JSON {title, body, url, tag, lang, dir, kind}. A newer message with the same tag (the same
// appointment or request) replaces the older one instead of piling up.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : "" };
  }
  const options = { body: data.body || "", icon: "/icon-192.png", badge: "/badge-96.png", lang: data.lang || "",
    dir: data.dir || "auto", data: { url: data.url || "/", kind: data.kind || "" } };
  if (data.tag) Object.assign(options, { tag: data.tag, renotify: true });
  event.waitUntil(self.registration.showNotification(data.title || "Cita", options));
});

// Tapping a notification opens its page (/<lang>/cita/?c=CODE, /<lang>/solicitud/?c=CODE...): a window already
// showing it is focused; else an open Cita window goes there; else a new window opens.
async function openNotificationPage(path) {
  let url = new URL(path || "/", self.location.origin);
  if (url.origin !== self.location.origin) url = new URL("/", self.location.origin);
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const showing = windows.find((w) => w.url === url.href);
  if (showing) return showing.focus().catch(() => showing);
  for (const win of windows) {
    try {
      const moved = await win.navigate(url.href);
      if (moved) return moved.focus().catch(() => moved);
    } catch { /* not controlled by this worker: try the next one */ }
  }
  return self.clients.openWindow(url.href);
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const opening = openNotificationPage(event.notification.data && event.notification.data.url);
  try {
    event.waitUntil(opening);
  } catch { /* an event dispatched by a test script cannot be extended; the page still opens */ }
});

// The push service replaced the subscription (keys rotated, expiry): subscribe again and tell the server, with
// the same topics and the codes saved on the device, so nothing is missed until the page is next opened.
// No database yet: the upgrade is aborted rather than creating an empty one the page could not upgrade.
const saved = async (key) => {
  const db = await openDB("cita", undefined, { upgrade: (_db, _old, _new, tx) => tx.abort() }).catch(() => null);
  try { return db ? await db.get("kv", key) : undefined; } finally { db && db.close(); }
};

self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil((async () => {
    const state = await saved("push");
    if (!state) return;
    let fresh = event.newSubscription;
    if (!fresh) {
      const key = (await (await fetch("/api/v1/push/key")).json()).public_key;
      fresh = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    }
    const appointments = Object.entries((await saved("appointments")) || {})
      .filter(([, a]) => a && a.verifier).map(([code, a]) => ({ code, verifier: a.verifier }));
    const requests = Object.keys((await saved("requests")) || {});
    const headers = { "Content-Type": "application/json" };
    const put = await fetch("/api/v1/push/subscription", { method: "PUT", headers, body: JSON.stringify({
      subscription: fresh.toJSON(), lang: state.lang, topics: state.topics, appointments, requests }) });
    if (put.ok && state.endpoint !== fresh.endpoint) {
      await fetch("/api/v1/push/subscription", { method: "DELETE", headers,
        body: JSON.stringify({ endpoint: state.endpoint, auth: state.auth }) });
    }
    // The page notices the new endpoint when it is next opened and saves it on the device (assets/push.js).
  })().catch(() => null));
});
