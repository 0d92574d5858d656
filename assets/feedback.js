// Citizen feedback's part of the data module (issue 9): the 30-second survey after an attended appointment and
// the suggestion box. Both are written on the device and sent through the outbox (kind "feedback" in offline.js),
// so they work offline and reach the town hall exactly once (Idempotency-Key).
import {
  check, codeKey, drafts, enqueue, focusFirst, get, set, useIdbValue, useOnline, useParam, when,
} from "./offline.js";

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
  const key = codeKey(code);
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
  const errors = check("survey", fields);
  if (Object.keys(errors).length) {
    await set(surveyKey(key), { errors, outbox: "" });
    return focusFirst(errors);
  }
  const rating = Number(fields.rating);
  const payload = { kind: "survey", appointment: key, verifier: mine.verifier, rating,
    checklist_ok: fields.checklist_ok || null, missing: fields.missing || "", waiting: fields.waiting || "",
    comment: fields.comment || "", lang };
  const id = await enqueue("feedback", payload, { procedure: mine.view.procedure.name, when: `${mine.view.day} · ${mine.view.time}` });
  await set(surveyKey(key), { errors: {}, outbox: id });
}

// ---- the suggestion box: open to anyone, optionally anonymous, optionally asking for an answer ----
const DRAFT = "suggestion-draft";
const emptyDraft = { anonymous: false, wants_answer: false, consent: false, errors: {}, outbox: "" };
const draft = drafts(() => DRAFT, emptyDraft);
const draftOf = () => draft.of();
const update = (changes) => draft.update(null, changes);

export function useSuggestion(lang) {
  const stored = useIdbValue(DRAFT, null);
  const outbox = useIdbValue("outbox", []);
  const online = useOnline();
  const draft = { ...emptyDraft, ...(stored || {}) };
  const item = pendingOf(outbox, draft.outbox);
  const code = (item && item.result && item.result.code) || "";
  return { draft, isOnline: online, sent: !!draft.outbox, code, hasCode: !!code, ...itemState(item) };
}

export const toggleSuggestion = (name) => draft.toggle(null, name);

export async function submitSuggestion(lang, fields) {
  const d = draftOf();
  const errors = check("suggestion", { ...fields, consent: d.consent }, d);
  if (Object.keys(errors).length) {
    await update({ errors });
    return focusFirst(errors);
  }
  const text = fields.text.trim();
  const email = (fields.email || "").trim();
  const phone = (fields.phone || "").replace(/[\s().\-]/g, "");
  const anonymous = !!d.anonymous;
  const payload = { kind: "suggestion", text, anonymous, wants_answer: !!d.wants_answer, consent: !!d.consent,
    name: anonymous ? "" : (fields.name || ""), email: anonymous ? "" : email, phone: anonymous ? "" : phone, lang };
  const id = await enqueue("feedback", payload, { procedure: text.slice(0, 60), when: when(new Date().toISOString(), lang) });
  await update({ errors: {}, outbox: id });
}

export const newSuggestion = () => update({ ...emptyDraft });
