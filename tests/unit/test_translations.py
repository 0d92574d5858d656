"""The gettext catalogues: every language in locales/ translates every source string of locales/messages.pot,
completely (no fuzzy, empty or untranslated entries, placeholders kept), and the .pot matches the code."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
EXTRACT = "pybabel extract -F locales/babel.cfg -k N_ --no-location --sort-output --project Cita -o {out} ."
UPDATE_HINT = (
    "From the repository root, run `.venv/bin/" + EXTRACT.format(out="locales/messages.pot") + "`, then "
    "`.venv/bin/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching`, "
    "translate the new entries and `.venv/bin/pybabel compile -d locales -D messages`."
)

# Messages whose translation may equal the English source because the word is the same in that language (brand
# names, codes, example values). Keep these lists short: anything else left in English is an untranslated string.
SAME_AS_SOURCE: dict[str, set[str]] = {
    "es": {"Cita", "OK", "DNI", "NIE", "DNI/NIE"},
}

PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]|%[sdifr]|\{[A-Za-z_]?\w*(?:![rsa])?(?::[^{}]*)?\}")

LANGS = sorted(p.parent.parent.name for p in LOCALES.glob("*/LC_MESSAGES/messages.po"))


def read(path: Path, locale: str | None = None):
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def msgids(catalog) -> set:
    return {m.id for m in catalog if m.id}


def key(msgid) -> str:
    return msgid[0] if isinstance(msgid, tuple) else msgid


def forms(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (tuple, list)) else [message.string]


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def pot():
    return read(POT)


def test_there_is_at_least_one_catalogue():
    assert "es" in LANGS, "locales/es/LC_MESSAGES/messages.po is missing: Spanish is the default language"


@pytest.mark.parametrize("lang", LANGS)
def test_catalogue_has_every_message(lang, pot):
    po = read(LOCALES / lang / "LC_MESSAGES" / "messages.po", lang)
    missing = sorted(key(i) for i in msgids(pot) - msgids(po))
    assert not missing, f"{lang}: {len(missing)} messages of messages.pot are missing. {UPDATE_HINT}\n" + "\n".join(missing)


@pytest.mark.parametrize("lang", LANGS)
def test_catalogue_is_complete_and_translated(lang):
    po = read(LOCALES / lang / "LC_MESSAGES" / "messages.po", lang)
    allowed = SAME_AS_SOURCE.get(lang, set())
    fuzzy, empty, same, broken = [], [], [], []
    for m in po:
        if not m.id:
            continue
        name = key(m.id)
        if m.fuzzy:
            fuzzy.append(name)
        strings = forms(m)
        if not strings or any(not s for s in strings):
            empty.append(name)
            continue
        sources = list(m.id) if isinstance(m.id, tuple) else [m.id]
        if any(s == src for s in strings for src in sources) and name not in allowed:
            same.append(name)
        wanted = set(p for src in sources for p in placeholders(src))
        for s in strings:
            lost = wanted - set(placeholders(s))
            if lost:
                broken.append(f"{name!r} → {s!r}: lacks {sorted(lost)}")
    problems = []
    if fuzzy:
        problems.append("fuzzy (check the translation, then remove the fuzzy flag):\n  " + "\n  ".join(fuzzy))
    if empty:
        problems.append("empty msgstr:\n  " + "\n  ".join(empty))
    if same:
        problems.append(
            "msgstr identical to the English msgid (translate it, or add it to SAME_AS_SOURCE[" + repr(lang)
            + "] if the word really is the same):\n  " + "\n  ".join(same)
        )
    if broken:
        problems.append("placeholders missing in the translation:\n  " + "\n  ".join(broken))
    assert not problems, f"locales/{lang}/LC_MESSAGES/messages.po:\n" + "\n".join(problems)


def test_placeholder_pattern():
    assert placeholders("Hi %(name)s, {count} and %s") == sorted(["%(name)s", "{count}", "%s"])
    assert placeholders("No placeholders — 100% sure… {}") == ["{}"]


def test_pot_is_up_to_date_with_the_code(tmp_path, pot):
    out = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    command = [str(pybabel), *EXTRACT.format(out=out).split()[1:]]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    fresh = read(out)
    added = sorted(key(i) for i in msgids(fresh) - msgids(pot))
    removed = sorted(key(i) for i in msgids(pot) - msgids(fresh))
    assert not added and not removed, (
        "locales/messages.pot is out of date with the code. " + UPDATE_HINT
        + ("\nNew in the code:\n  " + "\n  ".join(added) if added else "")
        + ("\nNo longer in the code:\n  " + "\n  ".join(removed) if removed else "")
    )
