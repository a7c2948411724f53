"""Write docs/profile.md: every profile key of knowledge/facts.yaml, its type, the values it
accepts and what it means (the labels of the French and English catalogues).

    .venv/bin/python docs/make_profile.py           # rewrite docs/profile.md
    .venv/bin/python docs/make_profile.py --check   # exit 1 if docs/profile.md is out of date

tests/test_docs.py fails when the committed file differs from what this script writes,
so a key, a label or a bound changed in knowledge/ cannot leave the page behind.
It reads the shipped knowledge/ (never $PNMAN_KNOWLEDGE), and the words a YAML profile
reads as true or false are asked of pnman's own YAML reader, not written here by hand.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pnman.knowledge import KNOWLEDGE_DIR, load  # noqa: E402
from pnman.knowledge.locales import catalogue  # noqa: E402
from pnman.knowledge.profile import NO_WORDS, YES_WORDS  # noqa: E402

TARGET = ROOT / "docs" / "profile.md"
LANGS = ("fr", "en")
ROLES = {"identity": "shown in reports only, decides nothing",
         "request": "what the company asks for",
         "eligibility": "a condition of the guide: when it fails, the fiche is ineligible",
         "prerequisite": "something the company (or an earlier fiche) can bring about"}
def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _allowed(key, spec, kb) -> str:
    if spec.type == "bool":
        return "`true` or `false` ([yes/no words](#yesno-answers))"
    if spec.type == "int":
        return f"a whole number from {spec.min} to {spec.max}"
    if spec.type == "string":
        return f"text, at most {spec.max_length} characters" if spec.max_length else "text"
    if spec.type == "intlist":
        return f"a list of fiche numbers, 1 to {len(kb.fiches)} (`pnman fiches` lists them)"
    if key == "goals":
        return "a list of goal codes ([Goals](#goals))"
    return "a list of: " + ", ".join(f"`{c}`" for c in spec.choices) + f" ([{key}](#{key}))"


def render() -> str:
    kb = load(KNOWLEDGE_DIR)
    cats = {lang: catalogue(lang) for lang in LANGS}
    true, false = ", ".join(f"`{w}`" for w in YES_WORDS), ", ".join(f"`{w}`" for w in NO_WORDS)
    out = [
        "# Company profile: the keys",
        "",
        "<!-- Written by docs/make_profile.py from knowledge/facts.yaml and knowledge/locales/;",
        "     do not edit by hand: run `.venv/bin/python docs/make_profile.py`. -->",
        "",
        "A profile is a flat YAML (`.yaml`, `.yml`) or JSON (`.json`) mapping, read by `pnman assess`,",
        "`pnman check`, `pnman graph` and `pnman interview --answers`; `-` reads standard input.",
        "`pnman batch` reads the same keys as CSV columns or JSON lines. Only `employees` is",
        "required. A key that is not below is an error (exit 2), with a « did you mean » when it is",
        "close to one. `examples/` holds complete profiles; an interview leaves one too",
        "(`<session>.profile.yaml` in the sessions folder).",
        "",
        "## Unknown is not false",
        "",
        "Leave a key out when you do not know the answer: it is *unknown*. `false` is an answer:",
        "« the company does not have it ». pnman never reads an unknown as `false`:",
        "",
        "- a condition of the guide that is unknown makes the fiche `unknown` (with the missing",
        "  keys in `unknown_facts`), never `ineligible`;",
        "- a prerequisite that is unknown becomes a « check » company action in the plan",
        "  (« Vérifier : … »), where `false` gives an action to bring it about;",
        "- the interview's « je ne sais pas » / « I don't know » leaves the key out.",
        "",
        "In YAML, `null` or `~` is unknown too; in a CSV cell, an empty cell is unknown.",
        "",
        "## Yes/no answers",
        "",
        "Every input takes the same yes/no words, in any case (lower, Capitalised, UPPER): a YAML",
        "or JSON profile, a CSV cell or JSON line of `pnman batch`, an answer to the interview",
        f"(terminal, headless or web API). True: {true}. False: {false}.",
        "JSON's own `true` and `false` work too. Any other value is refused with exit 2 naming the",
        "key. The result file records `true` or `false`, whichever word was written.",
        "",
        "## Lists",
        "",
        "YAML: `goals: [start_it, server]` (or one `- item` a line); JSON: `[\"start_it\", \"server\"]`;",
        "CSV: the items in one cell, separated by `;` in a `,`-separated file (`start_it;server`) and",
        "by `,` in a `;`-separated file. An empty list (`[]`) is an answer: « none ».",
        "",
        "## Keys",
        "",
        "| key | type | accepted values | role | meaning (FR) | meaning (EN) |",
        "|---|---|---|---|---|---|",
    ]
    for key, spec in kb.facts.items():
        labels = [_cell(cats[lang].text(f"facts.{key}.label")) for lang in LANGS]
        kind = {"intlist": "list of int", "string": "text"}.get(spec.type, spec.type)
        role = ROLES[spec.role] + ("; the company cannot change it" if spec.unchangeable else "")
        required = " (required)" if key == "employees" else ""
        out.append(f"| `{key}`{required} | {kind} | {_allowed(key, spec, kb)} | {role} | {labels[0]} | {labels[1]} |")
    classes = sorted(kb.guide.size_classes.classes, key=lambda c: c.min)
    out += ["", "`employees` gives the size class: " + ", ".join(f"{c.code} {c.min}–{c.max}" for c in classes)
            + " employees; outside this range no fiche is open to the company.", ""]
    for key, spec in kb.facts.items():
        if spec.type == "list" and key != "goals":
            out += [f"## {key}", "", "| code | meaning (FR) | meaning (EN) |", "|---|---|---|"]
            out += [f"| `{code}` | " + " | ".join(_cell(cats[lang].text(f"choices.{key}.{code}")) for lang in LANGS)
                    + " |" for code in spec.choices]
            out.append("")
    out += ["## Goals", "", "A goal names the fiche the company wants; pnman plans it with what it needs first",
            "(its preparation fiche, the infrastructure fiches, the company's own actions).", "",
            "| goal | fiche | preparation | meaning (FR) | meaning (EN) |", "|---|---|---|---|---|"]
    for code, goal in kb.guide.goals.items():
        prep = str(goal.preparation) if goal.preparation else "—"
        out.append(f"| `{code}` | {goal.fiche} | {prep} | "
                   + " | ".join(_cell(cats[lang].text(f"goals.{code}")) for lang in LANGS) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run .venv/bin/python docs/make_profile.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
