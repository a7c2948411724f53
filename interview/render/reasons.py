"""Why, in a person's words: a failing condition, a fiche's status, an empty plan.

The record says why with codes: the condition that fails, the fact test it reads
(`fact <op> value`), the facts still unknown. These helpers turn them into the
catalogue's phrases (`report.reason.*`): the fact's label and what the guide expects,
« réservé aux PME à caractère industriel », « à préciser : Adhésion au PNMAN ». The ids
themselves stay in the record, and in text only under --verbose.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

# `w` is a .l10n.Words (not imported: l10n imports this module); a test is a
# knowledge.conditions.Test.


# Plan rule ids with figures in them: (pattern, catalogue key). The figures are named
# groups; a fact is worded by its label.
RULE_PATTERNS = (
    (re.compile(r"^plan\.preparation\.optional\.f(?P<preparation>\d+)\.before\.f(?P<acquisition>\d+)$"),
     "rules.plan_preparation_optional"),
    (re.compile(r"^plan\.serves_goal\.(?P<goal>[^.]+)\..*\.f(?P<acquisition>\d+)$"), "rules.plan_serves_goal"),
    (re.compile(r"^plan\.presupposes\.(?P<fact>[^.]+)\.for\.(?P<action>.+)$"), "rules.plan_presupposes_for"),
    (re.compile(r"^plan\.presupposes\.(?P<fact>[^.]+)\.after\.f(?P<fiche>\d+)$"), "rules.plan_presupposes_after"),
    (re.compile(r"^plan\.optional\.part_of\.f(?P<fiche>\d+)$"), "rules.plan_optional_part"),
    (re.compile(r"^plan\.optional\.for\.(?P<step>.+)$"), "rules.plan_optional_for"),
)
RULE_WORDS = (("goal.", "rules.goal"), ("request.", "rules.request"), ("plan.preparation", "rules.plan_preparation"),
              ("plan.provider", "rules.plan_provider"), ("plan.choice", "rules.plan_choice"),
              ("plan.", "rules.plan_after"), ("status.", "rules.status"))
# The fallback "plan." is the part of a straddling fiche after its acquisition (plan.post_erp.after.f10).


def describe_rule(rule: str, w: "Words") -> str:
    """A plan rule id in words (the id itself stays beside it for an auditor)."""
    for pattern, key in RULE_PATTERNS:
        match = pattern.match(rule)
        if match and w.cat.has(key):
            figures = match.groupdict()
            if "fact" in figures:
                figures["fact"] = w.fact(figures["fact"])
            if "goal" in figures:
                figures["goal"] = w.cat.get(f"goals.{figures['goal']}", figures["goal"])
            if "action" in figures:        # a company action's key: action.<fact>
                fact = figures["action"].split(".", 1)[-1]
                figures["action"] = w("format.quote", text=w.action(fact)) if w.cat.has(f"facts.{fact}.label") else figures["action"]
            if "step" in figures:          # a plan step's label: action.<fact>, or f<N> with its part
                figures["step"] = _step_words(figures["step"], w)
            return w(key, **figures)
    for prefix, key in RULE_WORDS:
        if rule.startswith(prefix):
            x = rule.split(".", 1)[1] if "." in rule else rule
            return w(key, x=w.cat.get(f"goals.{x}", x) if prefix == "goal." else x)
    return rule


_FICHE_STEP = re.compile(r"^f(?P<fiche>\d+)(?:\.(?P<part>.+))?$")


def _step_words(step: str, w: "Words") -> str:
    """A plan step named in a rule id (engine/planner.py's `_label`), as a person reads it."""
    if step.startswith("action."):
        fact = step.split(".", 1)[1]
        return w("format.quote", text=w.action(fact)) if w.cat.has(f"facts.{fact}.label") else step
    match = _FICHE_STEP.match(step)
    if match and int(match["fiche"]) in w.kb.fiches:
        return w("format.quote", text=w.fiche_title(int(match["fiche"])))
    return step


def test_words(test, w: "Words", actual: Any = None) -> str:
    """What a fact test asks for, as it reads when it fails: by the test's operator and
    value, with a fact's own phrase when the catalogue has one."""
    if test.op == "eq":
        own = f"report.reason.facts.{test.fact}.{'is_true' if test.value else 'is_false'}"
        if w.cat.has(own):
            return w(own)
        return w("report.reason.needs" if test.value else "report.reason.excludes", fact=w.fact(test.fact))
    if test.op == "contains":
        value = w.cat.get(f"report.reason.recommendations.{test.value}") \
            or w.cat.get(f"choices.{test.fact}.{test.value}", str(test.value))
        return w("report.reason.contains", value=value, fact=w.fact(test.fact))
    if test.op == "max":
        if actual is None:
            return w("report.reason.at_most", fact=w.fact(test.fact), max=w.number(test.value))
        return w("report.reason.above", fact=w.fact(test.fact), max=w.number(test.value), actual=w.number(actual))
    if test.op == "size":
        if actual is None:
            return w("report.reason.size_any", range=w.size_range(), count=w.size_range_end())
        return w("report.reason.size", people=w.count("counts.people", actual), range=w.size_range())
    return w.fact(test.fact)


def condition_words(condition_id: str, w: "Words", actual: Any = None) -> str:
    """A condition (by its id) in words: its tests, « ou » between the alternatives."""
    condition = w.condition(condition_id)
    if condition is None:
        return condition_id
    words = [test_words(t, w, actual) for t in condition.tests]
    return w("report.reason.or").join(words) if condition.any_of else w("report.reason.and").join(words)


def reason_words(reason: dict, w: "Words") -> str:
    """One failing condition of a record's `reasons` in words."""
    condition = w.condition(reason["condition"])
    if condition is None:
        return w.fact(reason["fact"]) if w.cat.has(f"facts.{reason['fact']}.label") else reason["condition"]
    tests = condition.tests
    if len(tests) > 1 and reason.get("facts"):
        failed = {f["fact"] for f in reason["facts"] if f["outcome"] == "failed"}
        if not condition.any_of:
            tests = tuple(t for t in tests if t.fact in failed) or tests
    actual = reason.get("actual") if len(tests) == 1 else None
    words = [test_words(t, w, actual) for t in tests]
    return w("report.reason.or").join(words) if condition.any_of else w("report.reason.and").join(words)


def _facts(facts: Iterable[str], w: "Words") -> str:
    return w.join(dict.fromkeys(w.fact(f) for f in facts))


def common_unknowns(record: dict) -> list[str]:
    """The facts every fiche of unknown status waits for (membership, diagnostic… when the
    profile leaves them out): said once above a table rather than on each of its rows,
    when at least half the fiches wait for them."""
    fiches = record.get("fiches", [])
    pending = [e["unknown_facts"] for e in fiches if e["status"] == "unknown"]
    if len(pending) < 2 or 2 * len(pending) < len(fiches):      # a few fiches: each row says it
        return []
    shared = set(pending[0]).intersection(*pending[1:])
    return [fact for fact in pending[0] if fact in shared]


def fiche_reasons(entry: dict, w: "Words", common: Iterable[str] = ()) -> list[str]:
    """Why a fiche has its status, in phrases: what closes it (ineligible), what the
    company must first bring (conditional), what is still to be made clear (unknown).
    `common`: unknown facts already said once for every fiche (common_unknowns)."""
    reasons = entry.get("reasons") or []
    failing = [r for r in reasons if r["outcome"] == "failed" and r["kind"] == "eligibility"]
    if entry["status"] == "ineligible" and failing:
        return list(dict.fromkeys(reason_words(r, w) for r in failing))
    out = []
    missing = [r for r in reasons if r["outcome"] == "failed" and r["kind"] == "prerequisite"]
    if missing:
        labels = []
        for r in missing:
            condition = w.condition(r["condition"])
            if condition is not None and condition.any_of:
                labels.append(w("report.reason.or").join(w.fact(t.fact) for t in condition.tests))
            else:
                labels.append(w.fact(r["fact"]))
        out.append(w("report.reason.missing", facts=w.join(dict.fromkeys(labels))))
    unknown = entry.get("unknown_facts") or []
    common = set(common)
    if unknown and common and common <= set(unknown):
        rest = [f for f in unknown if f not in common]
        out.append(w("report.reason.unknown_more", facts=_facts(rest, w)) if rest
                   else w("report.reason.unknown_common"))
    elif unknown:
        out.append(w("report.reason.unknown", facts=_facts(unknown, w)))
    return out


def fiche_reason_text(entry: dict, w: "Words", common: Iterable[str] = ()) -> str:
    return w("report.reason.separator").join(fiche_reasons(entry, w, common))


def no_plan_reasons(record: dict, w: "Words") -> tuple[str, list[str]]:
    """Why there is no plan, in words: the sentence (« Pas de plan d’action : … ») and the
    fiches asked for with what closes each. A headcount outside the guide's size classes,
    nothing asked for, or every fiche asked for closed."""
    from pnman.engine.planner import requested_fiches

    kb, profile = w.kb, record.get("profile") or {}
    employees = profile.get("employees")
    if record.get("size_class") is None and isinstance(employees, int):
        classes = sorted(kb.size_classes, key=lambda c: c.min)
        nearest = classes[0] if employees < classes[0].min else classes[-1]
        return w("report.no_plan", why=w("report.no_plan_size", people=w.count("counts.people", employees),
                                          size=nearest.code, low=w.number(nearest.min), high=w.number(nearest.max),
                                          count=nearest.max)), []
    requested = requested_fiches(profile, kb)
    if not requested:
        return w("report.no_plan", why=w("report.no_plan_nothing")), []
    entries = {e["fiche"]: e for e in record.get("fiches", [])}
    items = []
    for number, rule in requested:
        entry = entries.get(number)
        why = (fiche_reason_text(entry, w) or w.status(entry["status"])) if entry else ""
        asked = w("report.no_plan_goal", goal=w.goal(rule[len("goal."):])) if rule.startswith("goal.") else ""
        items.append(w("report.no_plan_fiche", fiche=number, title=w.fiche_title(number), goal=asked, reasons=why))
    return w("report.no_plan", why=w("report.no_plan_closed")), items


# Warnings an empty plan's reasons already give, fiche by fiche.
SAID_BY_NO_PLAN = ("goal_ineligible",)


def shown_warnings(record: dict) -> list[dict]:
    """The warnings a report shows: all, but those an empty plan's reasons already say."""
    if record.get("plan"):
        return list(record.get("warnings", []))
    return [x for x in record.get("warnings", []) if x.get("code") not in SAID_BY_NO_PLAN]


def shown_reasons(entry: dict) -> list[dict]:
    """The reasons a report quotes for a fiche: what closes it when it is ineligible, else
    what is missing or unknown."""
    if entry["status"] == "ineligible":
        return [r for r in entry["reasons"] if r["outcome"] == "failed" and r["kind"] == "eligibility"]
    return [r for r in entry["reasons"] if r["outcome"] == "failed"]


def because_words(step: dict, w: "Words") -> list[str]:
    """Why a step is in the plan, in words (its status is shown beside it already)."""
    return list(dict.fromkeys(describe_rule(b, w) for b in step.get("because", []) if not b.startswith("status.")))
