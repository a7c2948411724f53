"""The terminal prompts (questionary): one function per answer kind, fed by a `Step`.

Every prompt offers « Je ne sais pas » (the key stays unknown) unless an answer is
required, and « ← Retour » (the previous question); invalid input is refused with a
helpful message and asked again. Every word comes from the catalogue (`Words`).
`unsafe_ask` lets Ctrl-C raise KeyboardInterrupt, handled once at the top.
"""
from __future__ import annotations

from typing import Any

import questionary
from questionary import Choice

from ..render.l10n import Words
from .machine import Step

BACK = object()
UNKNOWN = None


def _ask(question, **kwargs):
    return question.unsafe_ask(**kwargs)


def ask_bool(step: Step, w: Words, prefix: str) -> Any:
    choices = [Choice(w("prompts.yes"), value=True), Choice(w("prompts.no"), value=False),
               Choice(w("prompts.unknown"), value="unknown"), Choice(w("prompts.back"), value="back")]
    chosen = {True: choices[0], False: choices[1]}.get(step.default, choices[2])
    answer = _ask(questionary.select(prefix + step.text, choices=choices, default=chosen, instruction=" "))
    if answer == "back":
        return BACK
    return UNKNOWN if answer == "unknown" else answer


def parse_int(text: str, low: int, high: int) -> int | None:
    text = text.strip().replace(" ", "")
    if not text or not text.isdigit():
        return None
    value = int(text)
    return value if low <= value <= high else None


def ask_int(step: Step, w: Words, prefix: str) -> Any:
    low = step.min if step.min is not None else 0
    high = step.max if step.max is not None else 10**9

    def validate(text: str):
        stripped = text.strip()
        if stripped == "<" or (not stripped and not step.required):
            return True
        return True if parse_int(stripped, low, high) is not None else w("prompts.int_error", low=low, high=high)

    answer = _ask(questionary.text(prefix + step.text, default="" if step.default is None else str(step.default),
                                   validate=validate,
                                   instruction=w("prompts.int_required" if step.required else "prompts.int_help")))
    answer = answer.strip()
    if answer == "<":
        return BACK
    return parse_int(answer, low, high) if answer else UNKNOWN


def parse_fiches(text: str, numbers: list[int]) -> list[int] | None:
    """Fiche numbers typed as « 13, 16 » (commas, semicolons or spaces); None if one is not a fiche."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    values: list[int] = []
    for part in parts:
        if not part.isdigit() or int(part) not in numbers:
            return None
        if int(part) not in values:
            values.append(int(part))
    return values


def ask_fiches(step: Step, w: Words, prefix: str) -> Any:
    numbers = [c["value"] for c in step.choices]

    def validate(text: str):
        return True if text.strip() == "<" or parse_fiches(text, numbers) is not None \
            else w("prompts.fiches_error", count=len(numbers))

    current = w.join(step.default) if step.default else ""
    answer = _ask(questionary.text(prefix + step.text, default=current, validate=validate,
                                   instruction=w("prompts.fiches_help"))).strip()
    if answer == "<":
        return BACK
    return parse_fiches(answer, numbers)


def ask_checkbox(step: Step, w: Words, prefix: str) -> Any:
    selected = set(step.default or [])
    choices = [Choice(c["label"], value=c["value"], checked=c["value"] in selected) for c in step.choices]
    allow_unknown = step.input == "list"      # goals: ticking none is the answer « none »
    if allow_unknown:
        choices.append(Choice(w("prompts.unknown"), value="unknown"))
    choices.append(Choice(w("prompts.back"), value="back"))
    answer = _ask(questionary.checkbox(prefix + step.text, choices=choices, instruction=w("prompts.none_checked")))
    if "back" in answer:
        return BACK
    if "unknown" in answer:
        return UNKNOWN
    return [c["value"] for c in step.choices if c["value"] in answer]


def ask_text(step: Step, w: Words, prefix: str) -> Any:
    answer = _ask(questionary.text(prefix + step.text, default=step.default or "")).strip()
    if answer == "<":
        return BACK
    return answer or None


def ask(step: Step, w: Words, prefix: str = "") -> Any:
    """Ask one question; returns a value, UNKNOWN (None) or BACK."""
    if step.input == "bool":
        return ask_bool(step, w, prefix)
    if step.input == "int":
        return ask_int(step, w, prefix)
    if step.input == "fiches":
        return ask_fiches(step, w, prefix)
    if step.input in ("goals", "list"):
        return ask_checkbox(step, w, prefix)
    return ask_text(step, w, prefix)


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def review(items: list[dict], w: Words) -> str | None:
    """The review screen: pick an answer to change (its key), or None to see the result."""
    choices = [Choice(w("interview.see_result"), value="__done__")]
    choices += [Choice(f"{_short(item['question'])} — {_short(item['answer'], 40)}", value=item["key"])
                for item in items]
    picked = _ask(questionary.select(w("interview.review"), choices=choices, default=choices[0]))
    return None if picked == "__done__" else picked
