"""The terminal prompts (questionary): one function per answer kind.

Every prompt offers « Je ne sais pas » (the key stays unknown) and « ← Retour » (the
previous question); invalid input is refused with a helpful message and asked again.
`unsafe_ask` lets Ctrl-C raise KeyboardInterrupt, handled once at the top.
"""
from __future__ import annotations

from typing import Any

import questionary
from questionary import Choice

from .questions import Question

BACK = object()
UNKNOWN = None

TEXT = {
    "fr": {"yes": "Oui", "no": "Non", "unknown": "Je ne sais pas", "back": "← Retour (question précédente)",
           "int_help": "un nombre entier ≥ 0 ; vide = je ne sais pas ; < = retour",
           "int_required": "un nombre entier ≥ 0 (obligatoire) ; < = retour",
           "int_error": "Entrez un nombre entier entre {low} et {high} (ou < pour revenir).",
           "fiches_help": "ex. : 13, 16 — vide = aucune ; < = retour",
           "fiches_error": "Entrez des numéros de fiche de 1 à 27 séparés par des virgules.",
           "none_checked": "(cochez avec Espace, validez avec Entrée)"},
    "en": {"yes": "Yes", "no": "No", "unknown": "I don't know", "back": "← Back (previous question)",
           "int_help": "a whole number ≥ 0; empty = I don't know; < = back",
           "int_required": "a whole number ≥ 0 (required); < = back",
           "int_error": "Enter a whole number between {low} and {high} (or < to go back).",
           "fiches_help": "e.g. 13, 16 — empty = none; < = back",
           "fiches_error": "Enter fiche numbers from 1 to 27 separated by commas.",
           "none_checked": "(tick with Space, confirm with Enter)"},
}


def _ask(question, **kwargs):
    return question.unsafe_ask(**kwargs)


def ask_bool(q: Question, lang: str, default: Any, prefix: str) -> Any:
    t = TEXT[lang]
    choices = [Choice(t["yes"], value=True), Choice(t["no"], value=False),
               Choice(t["unknown"], value="unknown"), Choice(t["back"], value="back")]
    chosen = {True: choices[0], False: choices[1]}.get(default, choices[2]) if default is not None else choices[2]
    answer = _ask(questionary.select(prefix + q.prompt(lang), choices=choices, default=chosen,
                                     instruction=" "))
    if answer == "back":
        return BACK
    return UNKNOWN if answer == "unknown" else answer


def parse_int(text: str, low: int, high: int) -> int | None:
    text = text.strip().replace(" ", "")
    if not text or not text.isdigit():
        return None
    value = int(text)
    return value if low <= value <= high else None


def ask_int(q: Question, lang: str, default: Any, prefix: str, *, required: bool, low: int, high: int) -> Any:
    t = TEXT[lang]

    def validate(text: str):
        stripped = text.strip()
        if stripped == "<" or (not stripped and not required):
            return True
        return True if parse_int(stripped, low, high) is not None else t["int_error"].format(low=low, high=high)

    answer = _ask(questionary.text(prefix + q.prompt(lang), default="" if default is None else str(default),
                                   validate=validate, instruction=t["int_required" if required else "int_help"]))
    answer = answer.strip()
    if answer == "<":
        return BACK
    return parse_int(answer, low, high) if answer else UNKNOWN


def parse_fiches(text: str) -> list[int] | None:
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    values = []
    for part in parts:
        if not part.isdigit() or not 1 <= int(part) <= 27:
            return None
        if int(part) not in values:
            values.append(int(part))
    return values


def ask_fiches(q: Question, lang: str, default: Any, prefix: str) -> Any:
    t = TEXT[lang]

    def validate(text: str):
        return True if text.strip() == "<" or parse_fiches(text) is not None else t["fiches_error"]

    current = ", ".join(map(str, default)) if default else ""
    answer = _ask(questionary.text(prefix + q.prompt(lang), default=current, validate=validate,
                                   instruction=t["fiches_help"])).strip()
    if answer == "<":
        return BACK
    return parse_fiches(answer)


def ask_checkbox(q: Question, lang: str, default: Any, prefix: str, *, allow_unknown: bool) -> Any:
    t = TEXT[lang]
    selected = set(default or [])
    choices = [Choice(label[lang], value=code, checked=code in selected) for code, label in q.choices.items()]
    if allow_unknown:
        choices.append(Choice(t["unknown"], value="unknown"))
    choices.append(Choice(t["back"], value="back"))
    answer = _ask(questionary.checkbox(prefix + q.prompt(lang), choices=choices, instruction=t["none_checked"]))
    if "back" in answer:
        return BACK
    if "unknown" in answer:
        return UNKNOWN
    return [code for code in q.choices if code in answer]


def ask_text(q: Question, lang: str, default: Any, prefix: str) -> Any:
    answer = _ask(questionary.text(prefix + q.prompt(lang), default=default or "")).strip()
    if answer == "<":
        return BACK
    return answer or None


def ask(q: Question, lang: str, default: Any, prefix: str, kb) -> Any:
    """Ask one question; returns a value, UNKNOWN (None) or BACK."""
    if q.kind == "bool":
        return ask_bool(q, lang, default, prefix)
    if q.kind == "int":
        spec = kb.facts[q.key]
        return ask_int(q, lang, default, prefix, required=q.key == "employees",
                       low=spec.get("min", 0), high=spec.get("max", 10**6))
    if q.kind == "fiches":
        return ask_fiches(q, lang, default, prefix)
    if q.kind in ("goals", "list"):
        return ask_checkbox(q, lang, default, prefix, allow_unknown=q.kind == "list")
    return ask_text(q, lang, default, prefix)


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def review(items: list[tuple[str, str, str]], lang: str) -> str | None:
    """The review screen: pick an answer to change, or None to see the result."""
    done = "✔ Voir le résultat" if lang == "fr" else "✔ See the result"
    choices = [Choice(done, value="__done__")]
    choices += [Choice(f"{_short(label)} — {_short(answer, 40)}", value=key) for key, label, answer in items]
    title = ("Vérifiez vos réponses (Entrée sur une réponse pour la modifier)" if lang == "fr"
             else "Review your answers (Enter on an answer to change it)")
    picked = _ask(questionary.select(title, choices=choices, default=choices[0]))
    return None if picked == "__done__" else picked
