// Citizen feedback's part of the data module (issue 9): the 30-second survey after an attended appointment and
// the suggestion box. Both are written on the device and sent through the outbox (kind "feedback" in offline.js),
// so they work offline and reach the town hall exactly once (Idempotency-Key).
import { enqueue, get, set, useIdbValue, useOnline, useParam, when } from "./offline.js";

// The same checks as the server (pwa_app/services/feedback.py), so mistakes show at once, even offline.
const TEXT_MAX = 2000;
function textError(raw) {
  const text = (raw || "").trim();
  if (text.length > TEXT_MAX) return "text_too_long";
  if (/<\s*\/?\s*[a-z!?][^<>]*>/i.test(text)) return "no_html";
  if ((text.match(/(https?:\/\/|www\.)/gi) || []).length > 2) return "spam";
  return "";
}

const pendingOf = (outbox, id) => outbox.find((i) => i.id === id) || null;
const itemState = (item) => ({
  status: item ? item.status : "", retrying: !!item && item.tries > 0,
  itemErrorList: Object.values((item && item.errors) || {}),
});

// ---- the survey: one per appointment, keyed by the appointment's code on this device ----
const surveyKey = (key) => `survey:${key}`;

export function useSurvey(lang) {
  const code = useParam("c");
  const all = useIdbValue("appointments", {});
  const outbox = useIdbValue("outbox", []);
  const online = useOnline();
  const key = (code || "").toUpperCase().replace(/-/g, "");
  const survey = useIdbValue(surveyKey(key), { errors: {}, outbox: "" });
  const mine = all[key];
  if (!mine) return { ready: code !== null, found: false, a: { procedure: {}, office: {} }, errors: {} };
  const item = pendingOf(outbox, survey.outbox);
  return { ready: true, found: true, key, a: mine.view, open: mine.view.status === "done", isOnline: online,
    errors: survey.errors || {}, sent: !!survey.outbox, ...itemState(item) };
}

export async function submitSurvey(lang, key, fields) {
  const mine = get("appointments", {})[key];
  if (!mine) return;
  const errors = {};
  const rating = Number(fields.rating || 0);
  if (!(rating >= 1 && rating <= 5)) errors.rating = "rating";
  for (const name of ["missing", "comment"]) {
    const e = textError(fields[name]);
    if (e) errors[name] = e;
  }
  if (Object.keys(errors).length) {
    await set(surveyKey(key), { errors, outbox: "" });
    document.getElementById(`field-${Object.keys(errors)[0]}`)?.focus();
    return;
  }
  const payload = { kind: "survey", appointment: key, verifier: mine.verifier, rating,
    checklist_ok: fields.checklist_ok || null, missing: fields.missing || "", waiting: fields.waiting || "",
    comment: fields.comment || "", lang };
  const id = await enqueue("feedback", payload, { procedure: mine.view.procedure.name, when: `${mine.view.day} · ${mine.view.time}` });
  await set(surveyKey(key), { errors: {}, outbox: id });
}

// ---- the suggestion box: open to anyone, optionally anonymous, optionally asking for an answer ----
const DRAFT = "suggestion-draft";
const emptyDraft = { anonymous: false, wants_answer: false, consent: false, errors: {}, outbox: "" };
const draftOf = () => ({ ...emptyDraft, ...get(DRAFT, {}) });
const update = (changes) => set(DRAFT, { ...draftOf(), ...changes });

export function useSuggestion(lang) {
  const stored = useIdbValue(DRAFT, null);
  const outbox = useIdbValue("outbox", []);
  const online = useOnline();
  const draft = { ...emptyDraft, ...(stored || {}) };
  const item = pendingOf(outbox, draft.outbox);
  const code = (item && item.result && item.result.code) || "";
  return { draft, isOnline: online, sent: !!draft.outbox, code, hasCode: !!code, ...itemState(item) };
}

export const toggleSuggestion = (name) => {
  const errors = { ...draftOf().errors };
  delete errors[name];
  return update({ [name]: !draftOf()[name], errors });
};

export async function submitSuggestion(lang, fields) {
  const d = draftOf();
  const errors = {};
  const text = (fields.text || "").trim();
  if (!text) errors.text = "suggestion_required";
  else if (textError(text)) errors.text = textError(text);
  if (d.wants_answer && !d.consent) errors.consent = "consent_request";
  const email = (fields.email || "").trim();
  if (email && !/^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/.test(email)) errors.email = "email";
  const phone = (fields.phone || "").replace(/[\s().\-]/g, "");
  if (phone && !/^\+?\d{9,15}$/.test(phone)) errors.phone = "phone";
  if (Object.keys(errors).length) {
    await update({ errors });
    document.getElementById(`field-${Object.keys(errors)[0]}`)?.focus();
    return;
  }
  const anonymous = !!d.anonymous;
  const payload = { kind: "suggestion", text, anonymous, wants_answer: !!d.wants_answer, consent: !!d.consent,
    name: anonymous ? "" : (fields.name || ""), email: anonymous ? "" : email, phone: anonymous ? "" : phone, lang };
  const id = await enqueue("feedback", payload, { procedure: text.slice(0, 60), when: when(new Date().toISOString(), lang) });
  await update({ errors: {}, outbox: id });
}

export const newSuggestion = () => update({ ...emptyDraft });
