"""The terminal prompts (questionary): one function per answer kind, fed by a `Step`.

Every prompt offers « Je ne sais pas » (the key stays unknown) unless an answer is
required, and « ← Retour » (the previous question); invalid input is refused with a
helpful message and asked again. Every word comes from the catalogue (`Words`),
questionary's own English hints included: each select and checkbox gets its
`instruction`, and a checkbox, which would print « done (2 selections) » once answered,
is erased and its answer printed in the interview's language instead.
`unsafe_ask` lets Ctrl-C raise KeyboardInterrupt, handled once at the top.
"""
from __future__ import annotations

import shutil
import textwrap
from typing import Any

import questionary
from prompt_toolkit import print_formatted_text
from prompt_toolkit.formatted_text import FormattedText
from questionary import Choice
from questionary.styles import merge_styles_default

from ..render.l10n import Words
from .machine import Step

BACK = object()
BY_FICHES = object()      # « no goal: the diagnostic names fiches » — ask the fiches first
UNKNOWN = None


def _ask(question, **kwargs):
    return question.unsafe_ask(**kwargs)


def _select(message: str, choices: list, w: Words, default=None):
    """A questionary select with the catalogue's hint instead of « (Use arrow keys) »."""
    return _ask(questionary.select(message, choices=choices, default=default, instruction=w("prompts.select_help")))


def _answered(message: str, answer: str) -> None:
    """The line a prompt leaves once answered, as questionary draws it (for an erased prompt)."""
    print_formatted_text(FormattedText([("class:qmark", "?"), ("class:question", f" {message} "),
                                        ("class:answer", answer)]), style=merge_styles_default([]))


def ask_bool(step: Step, w: Words, prefix: str) -> Any:
    choices = [Choice(w("prompts.yes"), value=True), Choice(w("prompts.no"), value=False),
               Choice(w("prompts.unknown"), value="unknown"), Choice(w("prompts.back"), value="back")]
    chosen = {True: choices[0], False: choices[1]}.get(step.default, choices[2])
    answer = _select(prefix + step.text, choices, w, default=chosen)
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
        if text.strip() == "<":
            return True
        fiches = parse_fiches(text, numbers)
        if fiches is None:
            return w("prompts.fiches_error", count=len(numbers))
        return True if fiches or not step.at_least_one else w("prompts.fiches_required")

    current = w.join(step.default) if step.default else ""
    hint = "prompts.fiches_required_help" if step.at_least_one else "prompts.fiches_help"
    answer = _ask(questionary.text(prefix + step.text, default=current, validate=validate,
                                   instruction=w(hint))).strip()
    if answer == "<":
        return BACK
    return parse_fiches(answer, numbers)


def ask_checkbox(step: Step, w: Words, prefix: str) -> Any:
    """Tick with Space, confirm with Enter. Enter with nothing ticked is nearly always a slip
    (Space not pressed), so it is refused with a hint wherever it would decide something:
    a list (the diagnostic's recommendations) says « none » with its own choice, and the
    goals, when the interview needs a request (`at_least_one`), offer to name fiches
    instead (BY_FICHES). Goals otherwise: ticking none is the answer « none »."""
    selected = set(step.default or [])
    choices = [Choice(c["label"], value=c["value"], checked=c["value"] in selected) for c in step.choices]
    explicit_none = step.input == "list"
    if explicit_none:
        choices.append(Choice(w("prompts.none_of_these"), value="none", checked=step.default == []))
        choices.append(Choice(w("prompts.unknown"), value="unknown"))
    if step.at_least_one and step.key == "goals":
        choices.append(Choice(w("prompts.by_fiches"), value="by_fiches"))
    choices.append(Choice(w("prompts.back"), value="back"))

    def validate(values: list) -> bool | str:
        if values or not (step.at_least_one or explicit_none):
            return True
        return w("prompts.goals_required" if step.key == "goals" else "prompts.at_least_one")

    message = prefix + step.text
    answer = _ask(questionary.checkbox(message, choices=choices, validate=validate,
                                       instruction=w("prompts.checkbox_help"), erase_when_done=True))
    labels = {c["value"]: c["label"] for c in step.choices}
    if "back" in answer:
        _answered(message, w("prompts.back"))
        return BACK
    if "unknown" in answer:
        _answered(message, w("answers.unknown"))
        return UNKNOWN
    values = [c["value"] for c in step.choices if c["value"] in answer]
    if "by_fiches" in answer and not values:
        _answered(message, w("prompts.by_fiches"))
        return BY_FICHES
    _answered(message, w.join(labels[v] for v in values) or w("answers.none"))     # every answer: the terminal wraps
    return values


def ask_text(step: Step, w: Words, prefix: str) -> Any:
    answer = _ask(questionary.text(prefix + step.text, default=step.default or "",
                                   instruction=w("prompts.text_help"))).strip()
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


def _wrapped(text: str, indent: str = "   ") -> str:
    """A choice's text wrapped to the terminal (between words, never cut): the lines after
    the first start under its text, past the pointer."""
    width = max(30, shutil.get_terminal_size((80, 24)).columns - len(indent) - 1)
    for mark in (" :", " ;", " !", " ?", " »"):          # French punctuation stays with its word
        text = text.replace(mark, "\u00a0" + mark[1:])
    text = text.replace("« ", "«\u00a0")
    return ("\n" + indent).join(textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False))


def review(items: list[dict], w: Words) -> str | None:
    """The review screen: pick an answer to change (its key), or None to see the result.
    Each line holds the whole question and the whole answer (every goal), wrapped."""
    choices = [Choice(w("interview.see_result"), value="__done__")]
    choices += [Choice(_wrapped(f"{item['question']} — {item['answer']}"), value=item["key"]) for item in items]
    picked = _select(w("interview.review"), choices, w, default=choices[0])
    return None if picked == "__done__" else picked


def resume_or_restart(name: str, saved: dict | None, w: Words) -> bool:
    """A session of this name exists: True to resume it, False to start afresh (the old one
    is then kept as another session). Resuming is the default: nothing is lost by Enter."""
    if saved is None:
        what = w("interview.saved_unreadable")
    else:
        what = w("interview.saved_summary", n=saved["answers"],
                 status=w(f"interview.status_{'completed' if saved['status'] == 'completed' else 'in_progress'}"),
                 updated=str(saved.get("updated") or "?").replace("T", " ").replace("+00:00", " UTC"))
    choices = [Choice(w("interview.resume"), value=True), Choice(w("interview.restart"), value=False)]
    return _select(w("interview.existing", name=name, what=what), choices, w, default=choices[0])


def report_path(default: str, w: Words) -> str:
    """Where to write the report: Enter keeps the path offered; an empty field writes none."""
    return _ask(questionary.text(w("interview.report_ask"), default=default,
                                 instruction=w("prompts.report_help"))).strip()
