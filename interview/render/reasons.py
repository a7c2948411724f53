"""Why, in a person's words: a failing condition, a fiche's status, an empty plan.

The record says why with codes: the condition that fails, the fact test it reads
(`fact <op> value`), the facts still unknown. These helpers turn them into the
catalogue's phrases (`report.reason.*`): the fact's label and what the guide expects,
« réservé aux PME à caractère industriel », « à préciser : Adhésion au PNMAN ». The ids
themselves stay in the record, and in text only under --verbose.
"""
from __future__ import annotations

from typing import Any, Iterable

from pnman.engine.reasons import Reason, Rule
from pnman.engine.steps import StepId

# `w` is a .l10n.Words (not imported: l10n imports this module); a test is a
# knowledge.conditions.Test.


# Plan rules in words: the catalogue key of each, and the figures its sentence takes.
RULE_KEYS = {Rule.GOAL: "rules.goal", Rule.REQUEST: "rules.request", Rule.PREPARATION: "rules.plan_preparation",
             Rule.PREPARATION_OPTIONAL: "rules.plan_preparation_optional", Rule.AFTER_PART: "rules.plan_after",
             Rule.AWAITS_ACQUISITION: "rules.plan_awaits",
             Rule.CHOICE_PLANNED: "rules.plan_choice", Rule.CHOICE_FIRST_USABLE: "rules.plan_choice",
             Rule.PROVIDER: "rules.plan_provider", Rule.PRESUPPOSES_FOR: "rules.plan_presupposes_for",
             Rule.PRESUPPOSES_AFTER: "rules.plan_presupposes_after", Rule.OPTIONAL_PART_OF: "rules.plan_optional_part",
             Rule.OPTIONAL_FOR: "rules.plan_optional_for", Rule.SERVES_GOAL: "rules.plan_serves_goal",
             Rule.STATUS: "rules.status"}


def describe_rule(rule: str | Reason, w: "Words") -> str:
    """A plan rule (a Reason, or its id in a record) in words; the id stays beside it for an
    auditor. A condition of the knowledge is left as its id."""
    reason = rule if isinstance(rule, Reason) else Reason.of_id(rule)
    key = RULE_KEYS.get(reason.rule)
    if key is None:
        return reason.id
    r = reason.rule
    if r is Rule.GOAL:
        return w(key, x=w.cat.get(f"goals.{reason.goal}", reason.goal))
    if r is Rule.PREPARATION_OPTIONAL:
        return w(key, preparation=reason.other, acquisition=reason.fiche)
    if r is Rule.SERVES_GOAL:
        return w(key, goal=w.cat.get(f"goals.{reason.goal}", reason.goal), acquisition=reason.fiche)
    if r is Rule.PRESUPPOSES_FOR:
        fact = reason.step.fact
        action = w("format.quote", text=w.action(fact)) if w.cat.has(f"facts.{fact}.label") else reason.step.label
        return w(key, fact=w.fact(reason.fact), action=action)
    if r is Rule.PRESUPPOSES_AFTER:
        return w(key, fact=w.fact(reason.fact), fiche=reason.other)
    if r is Rule.AWAITS_ACQUISITION:
        return w(key, acquisition=reason.fiche)
    if r is Rule.OPTIONAL_PART_OF:
        return w(key, fiche=reason.fiche)
    if r is Rule.OPTIONAL_FOR:
        return w(key, step=_step_words(reason.step, w))
    return w(key)


def _step_words(step: StepId, w: "Words") -> str:
    """A plan step a reason names, as a person reads it: the company action, or the fiche's title."""
    if not step.is_fiche:
        if step.check or not w.cat.has(f"facts.{step.fact}.label"):
            return step.label
        return w("format.quote", text=w.action(step.fact))
    if step.fiche in w.kb.fiches:
        return w("format.quote", text=w.fiche_title(step.fiche))
    return step.rule_name


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
        asked = w("report.no_plan_goal", goal=w.goal(rule.goal)) if rule.rule is Rule.GOAL else ""
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
    reasons = (Reason.of_id(b) for b in step.get("because", []))
    return list(dict.fromkeys(describe_rule(r, w) for r in reasons if r.rule is not Rule.STATUS))
