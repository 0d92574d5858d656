// The request pages' part of the data module: sending a request (solicitud) through the outbox, and following
// it by its tracking code. Storage, outbox and sending live in offline.js, so any open page sends what waits.
import { useEffect } from "react";
import {
  check, codeKey, dismiss, drafts, enqueue, fetchJson, get, refresh, refreshRequests, requestTypesKey, saved, set,
  useIdbValue, useOnline, useParam, useSaved, when,
} from "./offline.js";

const DRAFT = "request-draft";
const emptyDraft = { type: "", description: "", address: "", lat: null, lon: null, name: "", email: "", phone: "",
  document: "", consent: false, attachments: [], errors: {}, outbox: "", step: "type" };
const draft = drafts(() => DRAFT, emptyDraft);
const draftOf = () => draft.of();
const update = (changes) => draft.update(null, changes);

// The form is built with the request types (`built`): its first step shows at once, then is revalidated.
let builtTypes = null;
const typesOf = (lang) => saved(requestTypesKey(lang)) || saved(requestTypesKey("*")) || builtTypes;
function useRequestTypes(lang, built = null) {
  builtTypes = built;
  useEffect(() => { refresh(requestTypesKey, lang, `/request-types?lang=${lang}`); }, [lang]);
  return useSaved(requestTypesKey, lang, built);
}

// The form's fields, by the names the API's errors use; an error about anything else links to the form itself.
const FIELDS = new Set(["description", "address", "attachments", "name", "email", "phone", "document", "consent"]);
const fieldOf = (name) => (name === "location" ? "address" : FIELDS.has(name) ? name : "form");
const fileKind = (type) => (type.allows_photo && type.allows_files ? "both" : type.allows_files ? "pdf" : "photo");
const wrongType = { both: "file_type", photo: "file_type_photo", pdf: "file_type_pdf" };

// The summary at the top of a refused form takes the focus, so a screen reader reads what to fix first.
const focusSummary = () => setTimeout(() => document.getElementById("error-summary")?.focus(), 50);

// A link of the error summary moves the focus to its field (the router only changes the address's #).
export const focusField = (id) => {
  const target = document.getElementById(id);
  target?.scrollIntoView({ block: "center" });
  target?.focus();
};

// The town hall refused the request (a 4xx no retry can fix): back to the form with everything the citizen wrote
// and attached, and each problem on its field. The refused copy leaves the outbox: the draft is the one to send.
async function reopenRefused(item) {
  const errors = {};
  for (const [name, code] of Object.entries(item.codes || {})) errors[fieldOf(name)] ||= code;
  if (!Object.keys(errors).length) errors.form = "bad_request";
  await update({ step: "details", outbox: "", errors });
  await dismiss(item.id);
  focusSummary();
}

export function useNewRequest(lang, built) {
  const types = useRequestTypes(lang, built);
  const stored = useIdbValue(DRAFT, null);
  const outbox = useIdbValue("outbox", []);
  const mine = useIdbValue("requests", {});
  const online = useOnline();
  const draft = { ...emptyDraft, ...(stored || {}) };
  const list = (types && types.types) || [];
  const type = list.find((t) => t.slug === draft.type) || null;
  const item = outbox.find((i) => i.id === draft.outbox) || null;
  const confirmed = item && item.result ? mine[codeKey(item.result.code)] : null;
  const status = item ? item.status : "";
  useEffect(() => {
    if (status === "failed") reopenRefused(item);
    else if (status === "done" && draftOf().attachments.length) update({ attachments: [] }); // sent: drop the copy
  }, [status]); // eslint-disable-line react-hooks/exhaustive-deps
  const errorList = Object.entries(draft.errors).filter(([, code]) => code)
    .map(([name, code]) => ({ code, target: name === "form" ? "request-form" : `field-${name}` }))
    .map((e) => ({ ...e, href: `#${e.target}` }));
  return {
    ready: !!types, types: list, type: type || { accept: [] }, hasType: !!type, draft, isOnline: online,
    step: type ? draft.step : "type", errorList, fileKind: type ? fileKind(type) : "photo",
    files: draft.attachments.map((a, n) => ({ n, filename: a.filename, size: `${Math.ceil(a.size / 1024)} KB` })),
    fileCount: draft.attachments.length,
    status, retrying: !!item && item.tries > 0,
    confirmed: confirmed || { timeline: [], department: {}, type: {} }, isConfirmed: !!confirmed,
  };
}

export const chooseRequestType = (slug) => update({ type: slug, step: "details", errors: {} });
export const setRequestField = (name, value) => draft.field(null, name, value);
export const toggleRequestField = (name) => draft.toggle(null, name);
export const changeRequestType = () => update({ step: "type" });
export const newRequest = () => update({ ...emptyDraft, name: draftOf().name, email: draftOf().email,
  phone: draftOf().phone });

// What is wrong with the files just picked, checked at once (size, type, how many), or "".
function pickProblem(files, lang) {
  const types = typesOf(lang);
  const type = types && types.types.find((t) => t.slug === draftOf().type);
  if (!type) return "";
  if (draftOf().attachments.length + files.length > types.limits.max_files) return "too_many_files";
  if (files.some((f) => f.size > types.limits.max_file_bytes)) return "file_too_big";
  if (files.some((f) => !type.accept.includes(f.type))) return wrongType[fileKind(type)];
  return "";
}

// Files are read on the device into the draft (base64), so a request written offline keeps its photos. A pick
// with a file too big or of the wrong type (or one too many) is refused at once, with the reason on the field.
export async function addAttachments(lang) {
  const input = document.getElementById("field-attachments");
  const files = [...((input && input.files) || [])];
  const problem = pickProblem(files, lang);
  if (problem) {
    if (input) input.value = "";
    return update({ errors: { ...draftOf().errors, attachments: problem } });
  }
  const read = (file) => new Promise((ok, fail) => {
    const reader = new FileReader();
    reader.onload = () => ok({ filename: file.name, content_type: file.type, size: file.size,
      data: String(reader.result).split(",")[1] });
    reader.onerror = fail;
    reader.readAsDataURL(file);
  });
  const added = await Promise.all(files.map(read));
  if (input) input.value = "";
  await update({ attachments: [...draftOf().attachments, ...added], errors: { ...draftOf().errors, attachments: "" } });
}

export const removeAttachment = (n) => update({ attachments: draftOf().attachments.filter((_, i) => i !== n),
  errors: { ...draftOf().errors, attachments: "" } });

export function useMyLocation() {
  return useIdbValue("$locating", "");
}

export function locateMe() {
  if (!navigator.geolocation) return set("$locating", "unavailable");
  set("$locating", "busy");
  navigator.geolocation.getCurrentPosition(
    (pos) => { update({ lat: pos.coords.latitude, lon: pos.coords.longitude }); set("$locating", "done"); },
    () => set("$locating", "unavailable"),
    { enableHighAccuracy: true, timeout: 15000 },
  );
}

// The form's rules (check), then what only the device knows: the files picked.
function checkRequest(d, type, limits) {
  const errors = check("request", d, type);
  const files = d.attachments || [];
  if (files.length > limits.max_files) errors.attachments = "too_many_files";
  else if (files.some((a) => a.size > limits.max_file_bytes)) errors.attachments = "file_too_big";
  else if (files.some((a) => !type.accept.includes(a.content_type))) errors.attachments = wrongType[fileKind(type)];
  return errors;
}

export async function submitRequest(lang, fields) {
  const types = typesOf(lang);
  const d = { ...draftOf(), ...fields, consent: fields.consent === "on" || draftOf().consent };
  const type = types && types.types.find((t) => t.slug === d.type);
  if (!type) return update({ step: "type" });
  const errors = checkRequest(d, type, types.limits);
  await update({ ...fields, consent: d.consent, errors });
  if (Object.keys(errors).length) return focusSummary();
  const payload = { type: d.type, description: d.description, address: d.address, lat: d.lat, lon: d.lon,
    name: d.name, email: d.email, phone: d.phone, document: d.document, consent: true, lang,
    attachments: d.attachments.map(({ filename, content_type, data }) => ({ filename, content_type, data })),
    client_created_at: new Date().toISOString() };
  const id = await enqueue("request", payload, { procedure: type.name, when: when(payload.client_created_at, lang) });
  await update({ outbox: id, step: "sent" }); // the files stay in the draft until the town hall has accepted it
}

export function useMyRequests(lang) {
  const all = useIdbValue("requests", {});
  const outbox = useIdbValue("outbox", []);
  const lookup = useIdbValue("request-lookup", { errors: {} });
  useEffect(() => { refreshRequests(lang); }, [lang]);
  const list = Object.entries(all).map(([key, r]) => ({ key, ...r }))
    .sort((a, b) => b.submitted_at.localeCompare(a.submitted_at));
  const waiting = outbox.filter((i) => (i.kind === "request" || i.kind === "reply") && i.status !== "done");
  return { list, count: list.length, waiting, waitingCount: waiting.length, lookup };
}

export async function lookUpRequest(lang, fields) {
  const code = codeKey(fields.code);
  if (!code) return set("request-lookup", { errors: { code: "required" } });
  try {
    const { status, body } = await fetchJson(`/requests/${code}?lang=${lang}`);
    if (status === 200) {
      await set("requests", { ...get("requests", {}), [code]: body });
      return set("request-lookup", { errors: {} });
    }
    return set("request-lookup", { errors: { code: status === 429 ? "rate_limited" : "request_not_found" } });
  } catch {
    return set("request-lookup", { errors: { code: "offline" } });
  }
}

export function useRequest(lang) {
  const code = useParam("c");
  const all = useIdbValue("requests", {});
  const outbox = useIdbValue("outbox", []);
  const reply = useIdbValue("reply-draft", { text: "", errors: {} });
  const key = codeKey(code);
  useEffect(() => {
    if (!key) return;
    fetchJson(`/requests/${key}?lang=${lang}`)
      .then(({ status, body }) => status === 200 && set("requests", { ...get("requests", {}), [key]: body }))
      .catch(() => null);
  }, [key, lang]);
  const r = all[key];
  if (!r) return { ready: code !== null, found: false, r: { timeline: [], department: {}, type: {}, attachments: [] },
    files: [] };
  const pending = outbox.filter((i) => i.kind === "reply" && i.payload.code === key && i.status !== "done");
  const files = (r.attachments || []).map((a) => ({ url: a.url, filename: a.filename,
    image: a.content_type.startsWith("image/"), size: `${Math.ceil(a.size / 1024)} KB` }));
  return { ready: true, found: true, key, files, r: { ...r, timeline: [...r.timeline].reverse() },
    asOfLabel: r.as_of_label, expected: r.expected_from_citizen || { text: "", respond_by_label: "" },
    hasExpected: !!r.expected_from_citizen, reply, pendingCount: pending.length };
}

export const setReply = (text) => set("reply-draft", { text, errors: {} });

export async function submitReply(lang, key, fields) {
  const text = (fields.text || get("reply-draft", {}).text || "").trim();
  const errors = check("reply", { text });
  if (errors.text) return set("reply-draft", { text, errors });
  await enqueue("reply", { code: key, text, lang }, { procedure: key, when: when(new Date().toISOString(), lang) });
  await set("reply-draft", { text: "", errors: {} });
}
