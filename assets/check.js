// Applies the citizen forms' rules (components/rules.py, built as rules.json) to what was typed: the first
// broken rule of each field gives its error code. No imports, so a unit test runs it in Node beside the server's
// own checks (tests/unit/test_rules.py).
const BROKEN = {
  required: (v) => !v,
  max: (v, n) => v.length > n,
  match: (v, re) => !!v && !new RegExp(re).test(v),
  forbid: (v, re) => new RegExp(re).test(v),
  most: (v, [re, n]) => (v.match(new RegExp(re, "gi")) || []).length > n,
  letter: (v, { letters, dni, nie }) => {
    const m = v.match(new RegExp(dni)) || v.match(new RegExp(nie));
    const digits = m && (m.length > 3 ? "XYZ".indexOf(m[1]) + m[2] : m[1]);
    return !!m && letters[Number(digits) % 23] !== m[m.length - 1];
  },
};
const given = (v) => v !== null && v !== undefined && v !== false && String(v).trim() !== "";
const flag = (name, flags) => (name[0] === "!" ? !flags[name.slice(1)] : !!flags[name]);
const applies = (when, flags, values) => !when || ((!when.if || flag(when.if, flags)) && !given(values[when.unless]));

export const checker = (RULES) => function check(form, values, flags = {}) {
  const errors = {};
  for (const [name, field] of Object.entries(RULES[form])) {
    let v = typeof values[name] === "boolean" ? (values[name] ? "1" : "") : String(values[name] ?? "").trim();
    if (field.tidy) v = v.replace(new RegExp(field.tidy, "g"), "");
    if (field.upper) v = v.toUpperCase();
    const broken = field.rules.find(([kind, , arg, when]) => applies(when, flags, values) && BROKEN[kind](v, arg));
    if (broken) errors[name] = broken[1];
  }
  return errors;
};
