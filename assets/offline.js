// Cita's client data module: what the citizen pages show comes from here, never from Reflex backend state,
// so every page works offline. Data from the JSON API is kept in IndexedDB (through `idb`) and mirrored in
// memory so React hooks read it synchronously; every write goes through the device outbox.
import { openDB } from "idb";
import { startTransition, useEffect, useState, useSyncExternalStore } from "react";
import { useLocation } from "react-router";
import { Workbox } from "workbox-window";
import { proofOfWork } from "./proof.js";
import { checker } from "./check.js";
import RULES from "./rules.json";

const API = "/api/v1";
const dbPromise = typeof indexedDB === "undefined" ? null : openDB("cita", 1, {
  upgrade(db) {
    db.createObjectStore("kv");
    db.createObjectStore("outbox", { keyPath: "id" });
  },
});

// ---- the store: an in-memory mirror of IndexedDB with a change notifier ----
const mem = new Map();
const fallbacks = new Map();
const listeners = new Set();
let version = 0; // bumped on every change: for views reading many saved answers at once
const emit = () => { version += 1; listeners.forEach((l) => l()); };
const subscribe = (l) => (listeners.add(l), () => listeners.delete(l));

export const loaded = (async () => {
  if (!dbPromise) return;
  const db = await dbPromise;
  const tx = db.transaction("kv");
  let cursor = await tx.store.openCursor();
  // Anything written while this was loading is newer than what is on disk: keep it.
  while (cursor) {
    if (!mem.has(cursor.key)) mem.set(cursor.key, cursor.value);
    cursor = await cursor.continue();
  }
  const written = new Map((mem.get("outbox") || []).map((i) => [i.id, i]));
  const outbox = [...(await db.getAll("outbox")).filter((i) => !written.has(i.id)), ...written.values()];
  // An empty outbox stays the hooks' default: a new [] would re-render every page for nothing.
  if (outbox.length || mem.has("outbox")) mem.set("outbox", outbox);
  emit();
})();

// Other open tabs of the app hear what this one saved (a booking one tab sent shows as booked in all of them).
const channel = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel("cita-data");
const tell = (message) => channel && channel.postMessage(message);
if (channel && dbPromise) {
  channel.onmessage = async ({ data }) => {
    const db = await dbPromise;
    if (data.key) {
      const value = await db.get("kv", data.key);
      if (value === undefined) mem.delete(data.key);
      else mem.set(data.key, value);
    }
    if (data.outbox) {
      const item = await db.get("outbox", data.outbox);
      const rest = (get("outbox", []) || []).filter((i) => i.id !== data.outbox);
      mem.set("outbox", item ? [...rest, item] : rest);
    }
    emit();
  };
}

// A booking or tracking code as the device keys it: "ab12-cd34 " and "AB12CD34" are the same code.
export const codeKey = (code) => (code || "").toUpperCase().replace(/[\s-]/g, "");

export function get(key, fallback) {
  return mem.has(key) ? mem.get(key) : fallback;
}

export const set = (key, value) => setMany([[key, value]]);

// Several keys, one notice to the pages: each notice re-renders the page that reads any of them.
async function setMany(entries) {
  entries.forEach(([key, value]) => mem.set(key, value));
  emit();
  if (!dbPromise) return;
  const tx = (await dbPromise).transaction("kv", "readwrite");
  await Promise.all([...entries.map(([key, value]) => tx.store.put(value, key)), tx.done]);
  entries.forEach(([key]) => tell({ key }));
}

// A hook reading one key. The default is remembered per key so React sees a stable snapshot; before
// hydration (prerendered HTML) it is always the default, which avoids hydration mismatches.
export function useIdbValue(key, fallback = null) {
  if (!fallbacks.has(key)) fallbacks.set(key, fallback);
  const initial = fallbacks.get(key);
  return useSyncExternalStore(subscribe, () => get(key, initial), () => initial);
}

export function useOnline() {
  return useSyncExternalStore(
    (l) => (addEventListener("online", l), addEventListener("offline", l),
      () => (removeEventListener("online", l), removeEventListener("offline", l))),
    () => navigator.onLine,
    () => true,
  );
}

// A query-string parameter of the current address (pages are prerendered once per language, so a
// procedure or a booking code travels in the query string). Null until hydrated.
export function useParam(name) {
  const location = useLocation();
  const [value, setValue] = useState(null);
  useEffect(() => setValue(new URLSearchParams(location.search).get(name)), [location.search, name]);
  return value;
}

// ---- reading from the API into the store ----
const fetchApi = (path, options = {}) => fetch(API + path, { headers: { Accept: "application/json" }, ...options });

export async function fetchJson(path, options = {}) {
  const response = await fetchApi(path, options);
  const body = await response.json().catch(() => ({}));
  return { status: response.status, body };
}

// Saved answers are kept per language, and the latest one of any language under "*": offline, a page in a
// language never opened online shows that one (and says it is in another language) rather than nothing.
// They are kept as their JSON text, parsed when first read: IndexedDB copies a string at memcpy speed, where a
// parsed calendar of 1,500 free times costs a cheap phone ~50 ms to store, and again to load on every start.
// A saved answer is revalidated with its ETag: unchanged, the server answers 304 with no body (at 9:00, a phone
// coming back costs a few hundred bytes per calendar instead of the calendar).
const inflight = new Map();
export async function refresh(keyOf, lang, path) {
  const key = keyOf(lang);
  if (inflight.has(key)) return inflight.get(key);
  const kept = get(key, null);
  const etag = kept && kept.etag;
  const job = fetchApi(path, etag ? { headers: { Accept: "application/json", "If-None-Match": etag } } : {})
    .then(async (response) => {
      if (response.status !== 200) return; // 304, unchanged: nothing to store, nothing to render again
      const asOf = new Date().toISOString();
      const entry = { json: await response.text(), asOf, etag: response.headers.get("ETag") || "" };
      await setMany([[key, entry], [keyOf("*"), entry]]);
    })
    .catch(() => null) // offline: the saved copy stays
    .finally(() => inflight.delete(key));
  inflight.set(key, job);
  return job;
}

const parsed = new WeakMap();
function answer(entry) {
  if (!entry || entry.json === undefined) return entry; // nothing, or saved already parsed by an earlier version
  if (!parsed.has(entry)) parsed.set(entry, { ...JSON.parse(entry.json), asOf: entry.asOf });
  return parsed.get(entry);
}

export const saved = (key) => answer(get(key, null));

// A saved answer arriving re-renders the page as a transition: React renders it in slices, between which a slow
// phone stays responsive. What the citizen types stays synchronous (useIdbValue), or typing would lag.
function useArriving(key) {
  const [seen, setSeen] = useState({ key, value: null }); // null when hydrating, as in the prerendered page
  useEffect(() => {
    const update = () => startTransition(() => setSeen((prev) => {
      const value = get(key, null);
      return prev.key === key && prev.value === value ? prev : { key, value };
    }));
    update();
    return subscribe(update);
  }, [key]);
  return seen.key === key ? seen.value : get(key, null);
}

// What the device saved in this language, else in another one (said so), else what the page was built with.
export function useSaved(keyOf, lang, built = null) {
  const own = answer(useArriving(keyOf(lang)));
  const other = answer(useArriving(keyOf("*")));
  return own || (other && { ...other, otherLanguage: true }) || built;
}

export const catalogueKey = (lang) => `catalogue:${lang}`;
export const requestTypesKey = (lang) => `request-types:${lang}`;
const availabilityKeyOf = (p, o) => (lang) => `availability:${lang}:${p}:${o}`;
export const refreshCatalogue = (lang) => refresh(catalogueKey, lang, `/procedures?lang=${lang}`);
export const refreshAvailability = (lang, p, o) =>
  refresh(availabilityKeyOf(p, o), lang, `/availability?procedure=${p}&office=${o}&lang=${lang}`);

// Loads the catalogue, then the availability of every bookable procedure, so pages never visited while
// online still have their data offline. The calendars come one at a time when the phone is idle: they never
// compete with what the citizen is looking at, nor arrive at the server all at once.
const idle = () => new Promise((done) =>
  (window.requestIdleCallback ? window.requestIdleCallback(done, { timeout: 2000 }) : setTimeout(done, 50)));
export async function warmCache(lang) {
  await refreshCatalogue(lang);
  const cat = saved(catalogueKey(lang));
  if (!cat) return;
  for (const p of cat.procedures.filter((p) => p.needs_appointment)) {
    for (const o of p.offices) {
      await idle();
      await refreshAvailability(lang, p.slug, o);
    }
  }
  await refreshAppointments(lang);
  await refresh(requestTypesKey, lang, `/request-types?lang=${lang}`);
  await refreshRequests(lang);
  await cacheLanguages(lang);
  document.documentElement.dataset.saved = "1"; // everything needed offline is on the device
}

// ---- catalogue and procedures ----
function useCatalogue(lang, built = null) {
  useEffect(() => { refreshCatalogue(lang); }, [lang]);
  return useSaved(catalogueKey, lang, built);
}

const fold = (s) => (s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();

// The home page is built with the catalogue (`built`): it shows at once, then the saved or fresh one replaces it.
export function useHome(lang, built) {
  const cat = useCatalogue(lang, built);
  const query = useIdbValue("query", "");
  useEffect(() => { warmCache(lang); }, [lang]);
  if (!cat) return { ready: false, query, areas: [], results: [], count: 0, asOf: "" };
  const words = fold(query).split(/\s+/).filter(Boolean);
  const matches = (p) => words.every((w) => fold([p.name, p.summary, p.keywords].join(" ")).includes(w));
  const results = words.length ? cat.procedures.filter(matches) : [];
  const areas = cat.areas.map((a) => ({ ...a, procedures: cat.procedures.filter((p) => p.area === a.slug) }));
  return { ready: true, query, areas, results, count: results.length, searching: words.length > 0, asOf: cat.asOf || "",
    otherLanguage: !!cat.otherLanguage };
}

export const setQuery = (value) => set("query", value);

function procedureOf(cat, slug) {
  const p = cat && cat.procedures.find((x) => x.slug === slug);
  if (!p) return null;
  const offices = cat.offices.filter((o) => p.offices.includes(o.slug));
  return { ...p, officeList: offices, fallback: p.fallback || !!cat.otherLanguage };
}

export function useProcedure(lang) {
  const cat = useCatalogue(lang);
  const slug = useParam("p");
  const ticks = useIdbValue(`ticks:${slug}`, {});
  const p = procedureOf(cat, slug);
  if (!p) return { ready: !!cat && slug !== null, found: false, p: { requirements: [], officeList: [] }, done: 0, total: 0 };
  const requirements = p.requirements.map((r) => ({ ...r, ticked: !!ticks[r.id] }));
  const done = requirements.filter((r) => r.ticked).length;
  return { ready: true, found: true, p: { ...p, requirements }, done, total: requirements.length };
}

export async function toggleTick(slug, id) {
  const ticks = { ...get(`ticks:${slug}`, {}) };
  ticks[id] = !ticks[id];
  await set(`ticks:${slug}`, ticks);
}

// A form's draft, kept on the device so nothing typed is lost (offline, or across a change of language);
// changing a field clears its error.
export function drafts(keyOf, empty) {
  const of = (id) => ({ ...empty, ...get(keyOf(id), {}) });
  const update = (id, changes) => set(keyOf(id), { ...of(id), ...changes });
  const field = (id, name, value) => {
    const errors = { ...of(id).errors };
    delete errors[name];
    return update(id, { [name]: value, errors });
  };
  return { of, update, field, toggle: (id, name) => field(id, name, !of(id)[name]) };
}

// ---- the booking flow: one draft per booking (a procedure, or a procedure and the code being moved), kept
// on the device so nothing typed is lost, also across a change of language ----
const draftKey = (id) => `draft:${id}`;
const emptyDraft = { step: "office", office: "", day: "", dayLabel: "", start: "", time: "", month: "", errors: {},
  name: "", document: "", phone: "", email: "", consent: false, outbox: "", hold: null, notice: "", lang: "es",
  // A visit (appointments/visits.py): how many people come (person n's fields are name_n and document_n), the
  // further procedures done right after, and whether someone books for the person (their representative).
  party: "1", also: [], on_behalf: false, rep_name: "", rep_email: "", rep_phone: "", rep_consent: false };
const PEOPLE_MAX = 9; // the server's CITA_PARTY_MAX can be at most this; the page offers its own build's value
for (let n = 2; n <= PEOPLE_MAX; n++) Object.assign(emptyDraft, { [`name_${n}`]: "", [`document_${n}`]: "" });
const booking = drafts(draftKey, emptyDraft);
const draftOf = booking.of;
export const { update: updateDraft, field: setField, toggle: toggleField } = booking;

// The office picked, or the only one there is (a procedure with one office skips that step).
function draftOffice(id) {
  const d = draftOf(id);
  const p = d.office ? null : procedureOf(saved(catalogueKey(d.lang || "es")), id.split(":")[0]);
  return d.office || (p && p.officeList.length === 1 ? p.officeList[0].slug : "");
}

export const chooseOffice = (id, office) => updateDraft(id, { office, step: "day", day: "", start: "", month: "",
  also: [] });
// Another procedure done in the same visit, right after (only those of the same office are offered).
export async function toggleAlso(id, slug) {
  const also = draftOf(id).also || [];
  await updateDraft(id, { also: also.includes(slug) ? also.filter((s) => s !== slug) : [...also, slug] });
}
export const chooseDay = (id, day, dayLabel) => updateDraft(id, { day, dayLabel, step: "time", start: "" });
// ---- holds: a picked time is kept for the citizen while they type (online only: offline bookings wait in the
// outbox and get the time, or the nearest ones, when they are sent) ----
async function releaseHold(id) {
  const { hold } = draftOf(id);
  if (!hold) return;
  await updateDraft(id, { hold: null });
  fetch(`${API}/holds/${hold.token}`, { method: "DELETE" }).catch(() => null);
}

export async function chooseTime(id, start, time) {
  await releaseHold(id);
  await updateDraft(id, { start, time, step: "details", notice: "" });
  const d = draftOf(id);
  if (id.includes(":") || !navigator.onLine) return; // a move keeps its own seat; offline: no hold
  try {
    const altcha = await proofOfWork();
    const { status, body } = await fetchJson("/holds", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ procedure: id, office: draftOffice(id), start, lang: d.lang || "es", altcha }) });
    if (status === 201) {
      await updateDraft(id, { hold: { token: body.token, until: Date.now() + body.seconds * 1000, seconds: body.seconds } });
    } else if (status === 409) {
      await updateDraft(id, { step: "time", start: "", notice: "taken" });
      refreshAvailability(d.lang || "es", id, draftOffice(id));
    }
  } catch { /* the server cannot be reached: go on without a hold, like offline */ }
}

// Seconds left on the hold, ticking once a second while the details are on screen.
function useCountdown(id, hold) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!hold) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [hold && hold.token]);
  const left = hold ? Math.max(0, Math.round((hold.until - now) / 1000)) : 0;
  useEffect(() => {
    if (hold && left === 0) {
      updateDraft(id, { hold: null, step: "time", start: "", notice: "hold_expired" });
    }
  }, [hold && hold.token, left === 0]);
  return left;
}

// "More time" (WCAG 2.2.1): the town hall keeps the time a few minutes more, at most twice; after that, or
// offline, the button goes and the countdown runs out as before.
export async function moreTime(id) {
  const { hold, lang } = draftOf(id);
  if (!hold) return;
  try {
    const { status, body } = await fetchJson(`/holds/${hold.token}/renew?lang=${lang}`, { method: "POST" });
    if (status === 200) return updateDraft(id, { hold: { ...hold, until: Date.now() + body.seconds * 1000 } });
  } catch { /* offline */ }
  await updateDraft(id, { hold: { ...hold, final: true } });
}

export const goToStep = async (id, step) => {
  if (step !== "details") await releaseHold(id);
  await updateDraft(id, { step, notice: "" });
};
export const showMonth = (id, month) => updateDraft(id, { month });
// Following a "book" or "change the time" link starts afresh after a finished booking (a move starts at the
// appointment's own office); an unfinished draft is kept as it is.
export function openBooking(id, office = "") {
  const d = get(draftKey(id), null);
  const item = d && (get("outbox", []) || []).find((i) => i.id === d.outbox);
  if (!d || (d.step === "sent" && (!item || item.status === "done"))) restartBooking(id, office);
}
// A new booking keeps the citizen's details (on their own device) but asks for consent again.
export const restartBooking = async (id, office = "") => {
  await releaseHold(id);
  await updateDraft(id, { step: office ? "day" : "office", office, day: "", start: "", time: "", month: "",
    outbox: "", consent: false, rep_consent: false, errors: {}, notice: "" });
};

// Monday-first weeks of one month, each day marked with its free seats from the cached availability.
function monthGrid(month, days, selected) {
  const [y, m] = month.split("-").map(Number);
  const first = new Date(Date.UTC(y, m - 1, 1));
  const lead = (first.getUTCDay() + 6) % 7;
  const count = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const byDate = Object.fromEntries(days.map((d) => [d.date, d]));
  const cells = Array.from({ length: lead }, () => ({ date: "", n: "", free: 0, open: false, selected: false, label: "" }));
  for (let n = 1; n <= count; n++) {
    const date = `${month}-${String(n).padStart(2, "0")}`;
    const d = byDate[date];
    cells.push({ date, n: String(n), free: d ? d.free : 0, open: !!d && d.free > 0, selected: date === selected,
      label: d ? d.label : "" });
  }
  // One day is in the tab order (the picked one, else the first open one); the arrows move from there.
  const open = cells.filter((c) => c.open);
  const tab = open.find((c) => c.selected) || open[0];
  if (tab) tab.tab = true;
  while (cells.length % 7) cells.push({ date: "", n: "", free: 0, open: false, selected: false, label: "" });
  return Array.from({ length: cells.length / 7 }, (_, i) => cells.slice(i * 7, i * 7 + 7));
}

// A visit's further procedures, each with the minutes after the first time at which it starts (the durations
// before it) and the free seats of its own saved availability at that office, by start.
function visitLegs(cat, p, slugs, office, lang) {
  let offset = p.duration_minutes || 0;
  return slugs.map((slug) => {
    const q = cat && cat.procedures.find((x) => x.slug === slug);
    const kept = office && saved(availabilityKeyOf(slug, office.slug)(lang));
    const free = new Map();
    ((kept && kept.days) || []).forEach((d) => d.slots.forEach((x) => free.set(Date.parse(x.start), x.free)));
    const leg = { offset, free };
    offset += (q && q.duration_minutes) || 0;
    return leg;
  });
}

// The times a whole party can take: enough free seats at the first time and at each next procedure's (from the
// same shared availability answers every citizen gets; the server checks again under its locks).
function fitVisit(days, party, legs) {
  if (party <= 1 && !legs.length) return days;
  return days.map((d) => {
    const slots = d.slots.map((s) => {
      const at = Date.parse(s.start);
      const fits = s.free >= party && legs.every((l) => (l.free.get(at + l.offset * 60000) || 0) >= party);
      return fits ? s : { ...s, free: 0 };
    });
    return { ...d, slots, free: slots.filter((s) => s.free > 0).length };
  });
}

// Each office with its earliest free time from the saved availability; the soonest of them is marked.
function withEarliest(p, lang) {
  const list = p.officeList.map((o) => {
    const a = saved(availabilityKeyOf(p.slug, o.slug)(lang));
    return { ...o, earliest: (a && a.earliest && a.earliest.label) || "", at: a && a.earliest ? Date.parse(a.earliest.start) : Infinity };
  });
  const soonest = Math.min(...list.map((o) => o.at));
  return list.map((o) => ({ ...o, soonest: list.length > 1 && o.at === soonest && soonest < Infinity }));
}

export function useBooking(lang) {
  const cat = useCatalogue(lang);
  const slug = useParam("p");
  const rescheduling = useParam("r");
  const id = rescheduling ? `${slug}:${rescheduling}` : slug;
  const stored = useIdbValue(draftKey(id), null);
  const outbox = useIdbValue("outbox", []);
  const mine = useIdbValue("appointments", {});
  const online = useOnline();
  const draft = { ...emptyDraft, ...(stored || {}) };
  const p = procedureOf(cat, slug);
  const office = (p && (p.officeList.find((o) => o.slug === draft.office) ||
    (p.officeList.length === 1 ? p.officeList[0] : null))) || null;
  const avail = useSaved(office && p ? availabilityKeyOf(p.slug, office.slug) : () => "none", lang);
  // A move keeps the visit as it is: its people and procedures come from the appointment saved on this device.
  const moving = rescheduling ? ((mine[rescheduling] || {}).view || null) : null;
  const party = moving ? Math.max(1, (moving.people || []).length) : Math.max(1, Number(draft.party) || 1);
  const also = moving ? (moving.also || []).map((a) => a.slug).filter(Boolean) : (draft.also || []);
  useEffect(() => { if (office) also.forEach((s) => refreshAvailability(lang, s, office.slug)); },
    [lang, office && office.slug, also.join(",")]);
  useSyncExternalStore(subscribe, () => (also.length ? version : 0), () => 0);
  const item = outbox.find((i) => i.id === draft.outbox) || null;
  useEffect(() => { if (p && office) refreshAvailability(lang, p.slug, office.slug); }, [lang, p && p.slug, office && office.slug]);
  useEffect(() => { if (p && !office) p.officeList.forEach((o) => refreshAvailability(lang, p.slug, o.slug)); }, [lang, p && p.slug, !office]);
  // On the office step, every office's saved availability as it arrives (elsewhere, useSaved's transitions do).
  useSyncExternalStore(subscribe, () => (office ? 0 : version), () => 0);
  const left = useCountdown(id, draft.step === "details" ? draft.hold : null);
  useEffect(() => { if (id && stored && stored.lang !== lang) updateDraft(id, { lang }); }, [id, lang, !!stored]);
  if (!p) return { ready: !!cat && slug !== null, found: false, rescheduling: !!rescheduling };
  const days = fitVisit((avail && avail.days) || [], party, visitLegs(cat, p, also, office, lang));
  const months = [...new Set(days.map((d) => d.date.slice(0, 7)))];
  const month = months.includes(draft.month) ? draft.month : months.find((mm) => days.some((d) => d.date.startsWith(mm) && d.free > 0)) || months[0] || "";
  const mi = months.indexOf(month);
  const day = days.find((d) => d.date === draft.day);
  const step = !office ? "office" : draft.step === "office" && p.officeList.length === 1 ? "day" : draft.step;
  const confirmed = item && item.result ? mine[codeKey(item.result.code)] : null;
  const limited = (item && item.limited) || "";
  return {
    ready: true, found: true, id, p: { ...p, officeList: withEarliest(p, lang) }, draft: { ...draft, step },
    office: office || {}, hasOffice: !!office, isOnline: online,
    rescheduling: !!rescheduling, code: rescheduling || "",
    days, hasDays: days.length > 0, daysOtherLanguage: !!(avail && avail.otherLanguage), asOf: (avail && avail.asOf) || "",
    month, monthLabel: (avail && avail.months && avail.months[month]) || month,
    prevMonth: mi > 0 ? months[mi - 1] : "", nextMonth: mi >= 0 && mi < months.length - 1 ? months[mi + 1] : "",
    weeks: month ? monthGrid(month, days, draft.day) : [],
    dayLabel: day ? day.label : "", times: day ? day.slots : [],
    item, status: item ? item.status : "", result: (item && item.result) || {},
    retrying: !!item && item.tries > 0 && !limited, limited,
    alternatives: (item && item.alternatives) || [], itemErrors: (item && item.errors) || {},
    itemErrorList: Object.values((item && item.errors) || {}),
    held: left > 0, holdClock: `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`,
    holdMinutes: String(Math.ceil(left / 60)), holdEnding: left > 0 && left <= 60,
    canRenew: left > 0 && !draft.hold.final,
    limitReached: !!(item && item.codes && item.codes.person),
    nextRelease: (avail && avail.next_release_label) || "",
    confirmed: confirmed ? confirmed.view : { office: {}, procedure: {}, requirements: [], people: [], also: [] },
    isConfirmed: !!confirmed,
    party, partyLabel: String(party), alsoNames: also.map((s) => ((cat && cat.procedures.find((x) => x.slug === s)) || { name: s }).name),
    alsoOptions: office && !rescheduling ? cat.procedures.filter((q) => q.slug !== p.slug && q.needs_appointment &&
      q.offices.includes(office.slug)).map((q) => ({ slug: q.slug, name: q.name, checked: also.includes(q.slug) })) : [],
  };
}

// ---- the forms' checks: data from the server's own rules (components/rules.py, built as rules.json), so a
// mistake shows at once, even offline; the server checks the same again and its refusals come back through
// the outbox with the same codes. ----
export const check = checker(RULES);

// A refused form: each field shows its problem and the first one takes the focus.
export function focusFirst(errors) {
  const first = Object.keys(errors)[0];
  if (first) document.getElementById(`field-${first}`)?.focus();
  return !!first;
}

export async function submitBooking(lang, id, fields) {
  const slug = id.split(":")[0];
  const p = procedureOf(saved(catalogueKey(lang)), slug);
  const ticked = (name) => fields[name] === "on" || (fields[name] === undefined && draftOf(id)[name] === true);
  const d = { ...draftOf(id), ...fields, consent: ticked("consent"), on_behalf: ticked("on_behalf"),
    rep_consent: ticked("rep_consent") };
  const party = Math.max(1, Number(d.party) || 1);
  const requires = p ? p.requires_document : true;
  const flags = { requires_document: requires, high_demand: !!(p && p.high_demand), on_behalf: d.on_behalf };
  for (let n = 2; n <= PEOPLE_MAX; n++) Object.assign(flags, { [`person_${n}`]: n <= party, [`document_${n}`]: n <= party && requires });
  const errors = check("booking", d, flags);
  await updateDraft(id, { ...fields, consent: d.consent, on_behalf: d.on_behalf, rep_consent: d.rep_consent, errors });
  if (focusFirst(errors)) return;
  const people = Array.from({ length: party - 1 }, (_, i) => ({ name: d[`name_${i + 2}`], document: d[`document_${i + 2}`] }));
  const behalf = d.on_behalf ? { on_behalf: true, rep_name: d.rep_name, rep_email: d.rep_email, rep_phone: d.rep_phone,
    rep_consent: d.rep_consent } : {};
  const payload = { procedure: slug, office: draftOffice(id), start: d.start, name: d.name, document: d.document,
    phone: d.phone, email: d.email, consent: true, lang, hold: d.hold ? d.hold.token : null, people,
    also: d.also || [], ...behalf };
  const item = await enqueue("book", payload, { procedure: p ? p.name : slug, when: `${d.dayLabel} · ${d.time}` },
    d.hold ? d.hold.until : 0);
  await updateDraft(id, { outbox: item, step: "sent", hold: null });
}

// Take one of the alternatives the server offered: a new booking with a new key for the new time.
export async function acceptAlternative(id, office, start, dayLabel, time) {
  const item = (get("outbox", []) || []).find((i) => i.id === draftOf(id).outbox);
  if (!item) return;
  await dismiss(item.id);
  const next = await enqueue(item.kind, { ...item.payload, office, start }, { ...item.label, when: `${dayLabel} · ${time}` });
  await updateDraft(id, { outbox: next, office, start, time, dayLabel, step: "sent" });
}

export async function submitReschedule(lang, id) {
  const [slug, code] = id.split(":");
  const d = draftOf(id);
  const mine = get("appointments", {})[code];
  if (!mine || !d.start) return;
  const item = await enqueue("reschedule", { code, verifier: mine.verifier, office: d.office || mine.view.office.slug,
    start: d.start, lang }, { procedure: mine.view.procedure.name, when: `${d.dayLabel} · ${d.time}` });
  await updateDraft(id, { outbox: item, step: "sent" });
}

// ---- the outbox: every citizen write, sent exactly once thanks to the server's Idempotency-Key ----
async function saveItem(item) {
  const items = (get("outbox", []) || []).filter((i) => i.id !== item.id);
  mem.set("outbox", [...items, item]);
  emit();
  if (!dbPromise) return;
  await (await dbPromise).put("outbox", item);
  tell({ outbox: item.id });
}

export async function enqueue(kind, payload, label, holdUntil = 0) {
  const item = { id: crypto.randomUUID(), kind, payload, label, status: "pending", tries: 0, nextAt: 0,
    created: new Date().toISOString(), holdUntil };
  await saveItem(item);
  flush();
  return item.id;
}

export async function dismiss(id) {
  mem.set("outbox", (get("outbox", []) || []).filter((i) => i.id !== id));
  emit();
  if (!dbPromise) return;
  await (await dbPromise).delete("outbox", id);
  tell({ outbox: id });
}

// Every kind of citizen write: how it is sent, and what to keep when the town hall has accepted it. They all
// live here, not in the pages, so whichever page is open sends whatever is waiting.
const KINDS = {
  book: { request: (p) => ["POST", "/appointments", p], done: remember },
  cancel: {
    request: (p) => ["DELETE", `/appointments/${p.code}?verifier=${encodeURIComponent(p.verifier)}&lang=${p.lang}`, null],
    done: remember,
  },
  reschedule: { request: (p) => ["POST", `/appointments/${p.code}/reschedule`, p], done: remember },
  confirm: { request: (p) => ["POST", "/appointments/confirm", p], done: remember },
  forget: {
    request: (p) => ["DELETE", `/appointments/${p.code}/personal-data?verifier=${encodeURIComponent(p.verifier)}&lang=${p.lang}`, null],
    done: forgotten,
  },
  request: { request: (p) => ["POST", "/requests", p], done: rememberRequest },
  reply: { request: (p) => ["POST", `/requests/${p.code}/replies`, p], done: rememberRequest },
  feedback: { request: (p) => ["POST", "/feedback", p], done: (b) => b && b.request && rememberRequest(b.request) },
};

// The proof of work every new booking carries (proof.js): solved on the device when the booking is sent, so a
// booking queued offline solves its own when the network returns. A person never sees it.
const PROVEN = new Set(["book", "request"]); // writes the server takes only with a fresh proof (holds too)

async function send(item) {
  const kind = KINDS[item.kind];
  const [method, path, payload] = kind.request(item.payload);
  let status, answer;
  try {
    const body = PROVEN.has(item.kind) ? { ...payload, altcha: await proofOfWork() } : payload;
    ({ status, body: answer } = await fetchJson(path, {
      method,
      headers: { "Content-Type": "application/json", "Idempotency-Key": item.id, Accept: "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    }));
  } catch {
    status = 0; // offline or the server is down: keep it and try again
  }
  if (status >= 200 && status < 300) {
    await kind.done(answer, item.payload.lang || "es");
    return saveItem({ ...item, status: "done", result: { code: answer.code }, sentAt: new Date().toISOString() });
  }
  if (status === 409) {
    return saveItem({ ...item, status: "conflict", errors: answer.errors || {}, alternatives: answer.alternatives || [] });
  }
  if (status >= 400 && status < 500 && ![408, 428, 429].includes(status)) {
    return saveItem({ ...item, status: "failed", errors: answer.errors || {}, codes: answer.codes || {} });
  }
  const tries = item.tries + 1;
  const asked = Number((answer && answer.retry_after) || 0) * 1000; // 429 and 503 (database busy): the server says when
  const wait = Math.max(asked, Math.min(60000, 2000 * 2 ** Math.min(tries, 5)) * (0.75 + Math.random() / 2));
  const nextAt = Date.now() + wait;
  // The time kept for the citizen runs out before the next try: ask them (another time, or keep trying).
  const ask = item.holdUntil && !item.keep && nextAt > item.holdUntil;
  const limited = status === 429 ? (answer.errors && answer.errors.rate) || "" : ""; // why and until when
  return saveItem({ ...item, status: ask ? "ask" : "pending", tries, nextAt, limited });
}

export async function keepTrying(id) {
  const item = (get("outbox", []) || []).find((i) => i.id === draftOf(id).outbox);
  if (item) await saveItem({ ...item, status: "pending", keep: true });
}

export async function chooseAnotherTime(id) {
  const d = draftOf(id);
  await dismiss(d.outbox);
  await updateDraft(id, { outbox: "", step: "time", start: "" });
  refreshAvailability(d.lang || "es", id.split(":")[0], draftOffice(id));
}

let flushing = null;
export function flush(force = false) {
  if (flushing) return flushing;
  const run = async () => {
    await loaded;
    const due = (get("outbox", []) || []).filter((i) => i.status === "pending" && (force || i.nextAt <= Date.now()));
    for (const item of due) {
      // Another tab may have sent, replaced or dismissed it: what is on disk decides (we hold the lock).
      const fresh = dbPromise ? await (await dbPromise).get("outbox", item.id) : item;
      if (fresh && fresh.status === "pending") await send(fresh);
      else if (fresh) { await saveItem(fresh); } else {
        mem.set("outbox", (get("outbox", []) || []).filter((i) => i.id !== item.id));
        emit();
      }
    }
  };
  // One tab at a time sends; another tab's attempt waits, then finds nothing left to send.
  const locked = navigator.locks ? () => navigator.locks.request("cita-outbox", run) : run;
  flushing = locked().finally(() => { flushing = null; });
  return flushing;
}

// ---- the service worker: installs the app for offline use, and offers a new version when one is deployed ----
let workbox = null;
let updating = false;
if (typeof window !== "undefined" && "serviceWorker" in navigator) {
  workbox = new Workbox("/sw.js");
  workbox.addEventListener("waiting", () => { mem.set("$updateReady", true); emit(); });
  workbox.addEventListener("controlling", () => { if (updating) location.reload(); });
  workbox.register();
  // Long-lived tabs (an installed app stays open for days) look for a new version when shown again.
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && workbox.update());
}

// The pages of the language being read, and of the browser's own languages, stored for offline use by the
// service worker (it installs with the shell only); another language is stored when the citizen opens it.
export async function cacheLanguages(lang) {
  if (!workbox) return;
  await workbox.active;
  const langs = [lang, ...(navigator.languages || []).map((l) => l.slice(0, 2).toLowerCase())];
  await workbox.messageSW({ type: "CACHE_LANGS", langs }).catch(() => null);
  document.documentElement.dataset.stored = lang; // this language's pages are on the device
}

export function applyUpdate() {
  updating = true;
  workbox.messageSkipWaiting();
}

// ---- focus: where a keyboard or screen-reader user (and a phone's view) must be after something changed ----
// A step or result the citizen brought about shows its heading marked data-focus: focus goes there and it is
// scrolled into view (else focus falls to <body> and the phone stays scrolled where the button was).
function showFocus(el) {
  el.focus({ preventScroll: true });
  const { top, bottom } = el.getBoundingClientRect();
  if (top < 0 || bottom > innerHeight * 0.75) el.scrollIntoView({ block: "start" }); // with what follows it
}

// In-page links (skip to the content, the languages) focus their target and keep the address as it is: a
// client-side navigation to "#main" would drop the query string (the procedure, the booking) with it.
function jump(e) {
  const link = e.target.closest && e.target.closest("a[data-jump]");
  const target = link && document.getElementById(link.dataset.jump);
  if (!target) return;
  e.preventDefault();
  showFocus(target);
}

// The calendar as a grid (WAI-ARIA date picker): arrows move by day and week, Home and End to the ends of the
// week, over the open days; Enter picks (a native button). One day is in the tab order at a time.
const MOVES = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 };
function calendarKey(e) {
  const from = e.target.closest && e.target.closest(".calendar button.day");
  if (!from || !(e.key in MOVES || e.key === "Home" || e.key === "End")) return;
  e.preventDefault();
  const row = [...from.closest("tr").querySelectorAll("button.day")];
  const cells = [...from.closest("tbody").querySelectorAll("td")];
  const step = MOVES[e.key] * (document.dir === "rtl" && Math.abs(MOVES[e.key]) === 1 ? -1 : 1);
  let to = e.key === "Home" ? row[0] : e.key === "End" ? row[row.length - 1] : null;
  for (let i = cells.indexOf(from.closest("td")) + step; !to && step && i >= 0 && i < cells.length; i += step) {
    to = cells[i].querySelector("button.day");
  }
  if (to) return moveTo(from, to);
  // Past the month's last (or first) open day: the next (or previous) month, at its first (or last) open day.
  const nav = step && document.querySelectorAll(".month-nav")[step > 0 ? 1 : 0];
  if (!nav || nav.disabled) return;
  nav.click();
  setTimeout(() => {
    const open = document.querySelectorAll(".calendar button.day");
    if (open.length) moveTo(document.querySelector(".calendar button.day[tabindex='0']"), open[step > 0 ? 0 : open.length - 1]);
  }, 100);
}

function moveTo(from, to) {
  if (from) from.tabIndex = -1;
  to.tabIndex = 0;
  to.focus();
}

if (typeof window !== "undefined") {
  let acted = false; // only what the citizen did moves focus, not the page's first data arriving
  const act = () => { acted = true; };
  addEventListener("pointerdown", act, true);
  addEventListener("keydown", act, true);
  addEventListener("keydown", calendarKey);
  addEventListener("click", jump, true);
  new MutationObserver((records) => {
    if (!acted) return;
    for (const r of records) {
      for (const n of r.type === "attributes" ? [r.target] : r.addedNodes) {
        const el = n.nodeType === 1 && (n.matches("[data-focus]") ? n : n.querySelector("[data-focus]"));
        if (el) return showFocus(el);
      }
    }
  }).observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-focus"] });
  loaded.then(() => flush(true));
  addEventListener("online", () => flush(true));
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && flush(true));
  setInterval(() => flush(), 5000); // online with the server down fires no event
}

// A saved moment as the citizen reads it ("25 nov 2026, 13:30"). Chromium lacks a few locales (eu, gl): those
// fall back to the browser's own format, still correct and unambiguous.
export function when(iso, lang) {
  try {
    return new Date(iso).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
  } catch {
    return iso;
  }
}

// ---- my requests: what this device sent or looked up, with the last known state (the server's "as of") ----
async function rememberRequest(view) {
  await set("requests", { ...get("requests", {}), [codeKey(view.code)]: view });
}

export async function refreshRequests(lang) {
  const codes = Object.keys(get("requests", {}));
  if (!codes.length) return;
  try {
    const { status, body } = await fetchJson("/requests/lookup", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ codes, lang }) });
    if (status === 200) for (const view of body.requests) await rememberRequest(view);
  } catch { /* offline: keep the last known state */ }
}

// ---- my appointments: what this device booked or looked up, with the last known state ----
async function remember(view, lang) {
  const all = { ...get("appointments", {}) };
  const key = codeKey(view.code);
  all[key] = { view, verifier: view.verifier, lang, asOf: new Date().toISOString() };
  await set("appointments", all);
}

export async function refreshAppointments(lang) {
  for (const [code, mine] of Object.entries(get("appointments", {}))) {
    try {
      const { status, body } = await fetchJson(`/appointments/${code}?verifier=${encodeURIComponent(mine.verifier)}&lang=${lang}`);
      if (status === 200) await remember(body, lang);
    } catch { /* offline: keep the last known state */ }
  }
}

export function useMyAppointments(lang) {
  const all = useIdbValue("appointments", {});
  const outbox = useIdbValue("outbox", []);
  const lookup = useIdbValue("lookup", { errors: {}, code: "", verifier: "" });
  useEffect(() => { refreshAppointments(lang); }, [lang]);
  const list = Object.entries(all).map(([key, a]) => ({ key, ...a.view, asOf: a.asOf }))
    .sort((a, b) => a.start.localeCompare(b.start));
  const waiting = outbox.filter((i) => i.status !== "done");
  return { list, count: list.length, waiting, waitingCount: waiting.length, lookup };
}

export async function lookUp(lang, fields) {
  const code = codeKey(fields.code);
  const verifier = (fields.verifier || "").trim();
  const errors = check("lookup", { code, verifier });
  if (!Object.keys(errors).length) {
    try {
      const { status, body } = await fetchJson(`/appointments/${code}?verifier=${encodeURIComponent(verifier)}&lang=${lang}`);
      if (status === 200) {
        await remember(body, lang);
        return set("lookup", { errors: {}, code: "", verifier: "", found: codeKey(body.code) });
      }
      errors.code = "not_found";
    } catch {
      errors.code = "offline";
    }
  }
  await set("lookup", { errors, code, verifier });
}

export function useAppointment(lang) {
  const code = useParam("c");
  const verifier = useParam("v"); // the link in the confirmation e-mail: look the booking up on a new device
  const all = useIdbValue("appointments", {});
  const outbox = useIdbValue("outbox", []);
  const confirming = useIdbValue("confirm-cancel", "");
  const key = codeKey(code);
  const mine = all[key];
  useEffect(() => {
    if (mine) fetchJson(`/appointments/${key}?verifier=${encodeURIComponent(mine.verifier)}&lang=${lang}`)
      .then(({ status, body }) => status === 200 && remember(body, lang)).catch(() => null);
  }, [key, lang]);
  useEffect(() => { if (!mine && code && verifier) lookUp(lang, { code, verifier }); }, [key, verifier, !!mine]);
  if (!mine) return { ready: code !== null && !verifier, found: false, a: { office: {}, procedure: {}, requirements: [] } };
  const pending = outbox.filter((i) => i.payload.code === key && i.status !== "done");
  return { ready: true, found: true, a: mine.view, asOf: mine.asOf, asOfLabel: when(mine.asOf, lang), key, pending, pendingCount: pending.length,
    confirming: confirming === `cancel:${key}`, forgetting: confirming === `forget:${key}` };
}

// ---- confirming a high-demand booking with the link e-mailed to the citizen (…/confirmar/?t=TOKEN) ----
const confirmKey = (token) => `confirm:${token}`;
const confirming = new Set();

async function sendConfirmation(lang, token, label) {
  await loaded;
  if (confirming.has(token) || get(confirmKey(token))) return; // once per link on this device
  confirming.add(token);
  const id = await enqueue("confirm", { token, lang }, { procedure: label, when: "" });
  await set(confirmKey(token), id);
}

export function useConfirm(lang, label) {
  const token = useParam("t");
  const [hydrated, setHydrated] = useState(false); // the address is read after hydration (prerendered page)
  useEffect(() => setHydrated(true), []);
  const sent = useIdbValue(confirmKey(token || ""), "");
  const outbox = useIdbValue("outbox", []);
  const mine = useIdbValue("appointments", {});
  useEffect(() => { if (token) sendConfirmation(lang, token, label); }, [token]);
  const item = outbox.find((i) => i.id === sent) || null;
  const confirmed = item && item.result ? mine[codeKey(item.result.code)] : null;
  return { ready: token !== null, status: hydrated && !token ? "missing" : item ? item.status : "",
    confirmed: confirmed ? confirmed.view : { office: {}, procedure: {}, requirements: [] }, isConfirmed: !!confirmed,
    errorList: Object.values((item && item.errors) || {}), alternatives: (item && item.alternatives) || [] };
}

// "Book again" after a confirmation came too late: the booking page opens at the details, on that time.
export async function bookAgain(slug, office, start, dayLabel, time) {
  await restartBooking(slug, office);
  await updateDraft(slug, { day: start.slice(0, 10), dayLabel });
  await chooseTime(slug, start, time);
}

// What the citizen is asked to confirm on an appointment: "cancel:KEY" or "forget:KEY".
export const askCancel = (key) => set("confirm-cancel", `cancel:${key}`);
export const askForget = (key) => set("confirm-cancel", `forget:${key}`);
export const keepAppointment = () => set("confirm-cancel", "");

// The right to erasure: the town hall deletes the booking's personal data (a future booking is cancelled
// first), and the device forgets it too once the town hall has done so.
export async function forgetAppointment(lang, key) {
  const mine = get("appointments", {})[key];
  if (!mine) return;
  await set("confirm-cancel", "");
  await enqueue("forget", { code: key, verifier: mine.verifier, lang }, { procedure: mine.view.procedure.name, when: mine.view.time });
}

async function forgotten(answer) {
  const all = { ...get("appointments", {}) };
  delete all[codeKey(answer.code)];
  await set("appointments", all);
}
export async function cancelAppointment(lang, key) {
  const mine = get("appointments", {})[key];
  if (!mine) return;
  await set("confirm-cancel", "");
  await enqueue("cancel", { code: key, verifier: mine.verifier, lang }, { procedure: mine.view.procedure.name, when: mine.view.time });
}

// What every page frame shows: connection, town name, writes still waiting, and the query string to keep
// when switching language. Also remembers the chosen language for the next visit to "/".
export function useShell(lang, dir, builtTown) {
  const online = useOnline();
  const cat = useSaved(catalogueKey, lang, { municipality: builtTown });
  const outbox = useIdbValue("outbox", []);
  const location = useLocation();
  const [search, setSearch] = useState("");
  useEffect(() => setSearch(location.search), [location.search]);
  useEffect(() => {
    // A language link is a client-side navigation: <html lang dir> must follow (screen readers read them).
    Object.assign(document.documentElement, { lang, dir });
    try { localStorage.setItem("cita-lang", lang); } catch { /* private mode */ }
    cacheLanguages(lang);
  }, [lang, dir]);
  useEffect(() => { loaded.then(() => get(catalogueKey(lang)) || refreshCatalogue(lang)); }, [lang]);
  useEffect(() => { document.documentElement.dataset.ready = "1"; }, []); // hydrated: controls respond
  const waiting = (kinds) => outbox.filter((i) => ["pending", "ask"].includes(i.status) && kinds.includes(i.kind)).length;
  const updateReady = useIdbValue("$updateReady", false);
  const town = (cat && cat.municipality) || {};
  return { online, lang, search, updateReady, bookingsWaiting: waiting(["book"]),
    changesWaiting: waiting(["cancel", "reschedule", "confirm", "forget"]),
    requestsWaiting: waiting(["request", "reply", "feedback"]),
    town: town.name || "", phone: town.phone || "", website: town.website || "" };
}
