// Cita's service worker (Workbox 7). Bundled by the PWA plugin after each production build, with the list of
// every page and chunk injected as self.__WB_MANIFEST: the whole app opens offline, in every language.
import { clientsClaim } from "workbox-core";
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";
import { NetworkFirst, StaleWhileRevalidate } from "workbox-strategies";

// Pages are prerendered per language at /<lang>/<page>/; their data travels in the query string
// (?p=procedure, ?c=code), so any query matches the same precached page.
precacheAndRoute(self.__WB_MANIFEST, { ignoreURLParametersMatching: [/.*/] });
cleanupOutdatedCaches();
clientsClaim();

// Any other address inside the app (a page added later, a mistyped one) gets the app shell, which routes it.
registerRoute(new NavigationRoute(createHandlerBoundToURL("/__spa-fallback.html"), {
  denylist: [/^\/api\//, /^\/_event/, /^\/_upload/, /^\/_health/, /^\/ping/],
}));

// Reflex answers with Vary: Origin, which would otherwise stop cached answers from matching.
const matchOptions = { ignoreVary: true };
// The catalogue changes rarely: answer at once from the cache and refresh it behind the scenes.
registerRoute(({ url, request }) => request.method === "GET" && url.pathname === "/api/v1/procedures",
  new StaleWhileRevalidate({ cacheName: "cita-catalogue", matchOptions }));
// Free times change by the minute: ask the network first, fall back to the last answer when offline.
registerRoute(({ url, request }) => request.method === "GET" && url.pathname === "/api/v1/availability",
  new NetworkFirst({ cacheName: "cita-availability", networkTimeoutSeconds: 4, matchOptions }));

// The page asks the waiting new version to take over when the citizen taps "update".
self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "SKIP_WAITING") self.skipWaiting();
});
