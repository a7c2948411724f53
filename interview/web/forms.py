"""A posted form as an answer of the question's kind, or the person's words saying what is wrong.

Forms carry text; the interview takes values. The conversion refuses what a form can
get wrong (a word in a number field, a number out of bounds, no box ticked where one is
needed) in the page's language; what is left is machine.Interview's to refuse.
"""
from __future__ import annotations

from typing import Any

from pnman.knowledge.profile import yes_no

from ..questionnaire.machine import Step
from ..render.l10n import Words


MAX_DIGITS = 18     # far above any bound a question has; keeps int() away from huge strings


class FormError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def form_value(step: Step, form, w: Words) -> Any:
    """The value of `step`'s field in `form` (a multi-dict: getlist for ticked boxes)."""
    if form.get("action") == "unknown":
        if step.required:
            raise FormError(w("web.errors.required"))
        return None
    kind = step.input
    if kind == "bool":
        value = yes_no(form.get("value", ""))
        if value is None:
            raise FormError(w("web.errors.choose_yes_no"))
        return value
    if kind == "int":
        text = str(form.get("value", "")).strip().replace(" ", "").replace("\u00a0", "")
        if not text:
            raise FormError(w("web.errors.required") if step.required else w("web.errors.empty_number"))
        bounds = {"low": w.number(step.min or 0), "high": w.number(step.max if step.max is not None else 10**9)}
        if not (text.isascii() and text.isdigit()):         # « ² », « ① » are digits to str.isdigit
            raise FormError(w("web.errors.not_a_number", **bounds))
        if len(text.lstrip("0")) > MAX_DIGITS:               # int() refuses more than 4,300 digits
            raise FormError(w("web.errors.out_of_range", **bounds))
        number = int(text)
        if (step.min is not None and number < step.min) or (step.max is not None and number > step.max):
            raise FormError(w("web.errors.out_of_range", **bounds))
        return number
    if kind in ("goals", "list", "fiches"):
        ticked = [str(v) for v in form.getlist("value")]
        allowed = {str(c["value"]): c["value"] for c in step.choices}
        values = [allowed[v] for v in ticked if v in allowed]
        if not values and step.at_least_one:
            raise FormError(w("web.errors.at_least_one_goal" if kind == "goals" else "web.errors.at_least_one"))
        return values
    text = str(form.get("value", "")).strip()
    return text or None


def kept_value(step: Step, form) -> Any:
    """What the person typed or ticked, shown again beside an error (nothing is lost)."""
    if step.input in ("goals", "list", "fiches"):
        return [str(v) for v in form.getlist("value")]
    return form.get("value", "")
