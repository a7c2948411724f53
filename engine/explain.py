"""Why a fiche is (or is not) in the plan, and what it would take to make it eligible.

Explanations are values: the CLI only renders them. "What would it take" is computed
by re-evaluating candidate changes with the engine, never written by hand: the
smallest sets of fact changes after which the fiche is `eligible`.
"""
from __future__ import annotations

from itertools import combinations
from typing import Any

from .assess import reason
from .evaluate import evaluate
from .knowledge import Knowledge, Test
from .profile import check_profile

# Facts the company cannot change: the guide excludes it (size, sector, already using IT).
IMPOSSIBLE = {
    "employees": {"fr": "la taille de l’entreprise (5 à 250 personnes) ne se change pas", "en": "company size cannot be changed"},
    "industrial": {"fr": "le caractère industriel (secteur) ne se change pas", "en": "the industrial character (sector) cannot be changed"},
    "uses_it": {"fr": "une entreprise qui utilise déjà l’informatique sort du cadre de la fiche", "en": "a company already using IT is outside this fiche"},
}
MAX_CANDIDATES = 14

RULE_TEXT = {
    "goal": {"fr": "objectif de l’entreprise « {x} »", "en": "company goal '{x}'"},
    "request": {"fr": "fiche demandée directement", "en": "fiche requested directly"},
    "plan.preparation": {"fr": "fiche de préparation placée avant son acquisition", "en": "preparation fiche placed before its acquisition"},
    "plan.provider": {"fr": "apporte un pré-requis d’une autre fiche du plan", "en": "brings about a prerequisite of another planned fiche"},
    "plan.choice": {"fr": "choisie parmi plusieurs fiches apportant le même pré-requis", "en": "chosen among several fiches bringing the same prerequisite"},
    "plan.erp": {"fr": "partie Post-ERP, après l’acquisition de l’ERP", "en": "Post-ERP part, after the ERP acquisition"},
    "status": {"fr": "statut de la fiche", "en": "status of the fiche"},
}


def describe_rule(rule: str, lang: str) -> str:
    for prefix, text in RULE_TEXT.items():
        if rule.startswith(prefix):
            x = rule.split(".", 1)[1] if "." in rule else rule
            return text[lang].format(x=x)
    return rule


def _favourable(test: Test, profile: dict) -> Any:
    if test.op == "eq":
        return test.value
    if test.op == "contains":
        current = list(profile.get(test.fact) or [])
        return sorted(set(current) | {test.value})
    if test.op == "max":
        return test.value
    return None


def _excluded(test: Test) -> bool:
    """A failing test the company cannot turn: size, sector, or already using IT (fiche 13)."""
    return test.fact in ("employees", "industrial") or (test.fact == "uses_it" and test.value is False)


def _candidates(status, kb: Knowledge, profile: dict, lang: str):
    changes, impossible = [], []
    seen = set()
    for outcome in status.conditions:
        if outcome.outcome == "met":
            continue
        for result in outcome.tests:
            if result.outcome == "met":
                continue
            test = result.test
            key = (test.fact, test.op, str(test.value))
            if key in seen:
                continue
            seen.add(key)
            label = kb.facts[test.fact].get("action", kb.facts[test.fact]["label"])[lang]
            if result.outcome == "failed" and _excluded(test):
                impossible.append({"fact": test.fact, "condition": outcome.condition.id,
                                   "why": IMPOSSIBLE[test.fact][lang], "possible": False})
                continue
            changes.append({"fact": test.fact, "from": profile.get(test.fact), "to": _favourable(test, profile),
                            "label": label, "condition": outcome.condition.id, "possible": True, "_test": test})
    return changes, impossible


def _apply(profile: dict, changes: list[dict]) -> dict:
    new = dict(profile)
    for change in changes:
        if change["_test"].op == "contains":
            new[change["fact"]] = sorted(set(new.get(change["fact"]) or []) | {change["_test"].value})
        else:
            new[change["fact"]] = change["to"]
    return new


def what_would_it_take(profile: dict, fiche: int, kb: Knowledge, lang: str = "fr") -> dict:
    """The smallest sets of fact changes that make `fiche` eligible, verified by re-evaluation."""
    evaluation = evaluate(profile, kb)
    status = evaluation.statuses[fiche]
    if status.status == "eligible":
        return {"already_eligible": True, "options": [], "impossible": []}
    changes, impossible = _candidates(status, kb, profile, lang)
    if impossible:
        return {"already_eligible": False, "options": [], "impossible": impossible}
    options: list[list[dict]] = []
    if len(changes) > MAX_CANDIDATES:
        sizes = [len(changes)]
    else:
        sizes = range(1, len(changes) + 1)
    for size in sizes:
        for subset in combinations(changes, size):
            if any(set(id(c) for c in found) <= set(id(c) for c in subset) for found in options):
                continue
            if evaluate(_apply(profile, list(subset)), kb).status(fiche) == "eligible":
                options.append(list(subset))
        if options:
            break
    cleaned = [[{k: v for k, v in c.items() if k != "_test"} for c in option] for option in options]
    return {"already_eligible": False, "options": cleaned, "impossible": []}


def explain(result: dict, fiche: int, kb: Knowledge, lang: str = "fr") -> dict:
    """Why fiche N is, or is not, in the recorded plan: rules, facts, citations, what it would take."""
    profile = dict(check_profile(result["profile"], kb, file=result.get("_source", "<result>")))
    evaluation = evaluate(profile, kb)
    status = evaluation.statuses[fiche]
    entry = next(e for e in result["fiches"] if e["fiche"] == fiche)
    steps = [s for s in result["plan"] if s.get("kind") == "fiche" and s.get("fiche") == fiche]
    in_plan = bool(steps)
    bringers = []
    if in_plan:
        first = steps[0]
        for step in result["plan"]:
            if step["step"] >= first["step"]:
                continue
            if step["kind"] == "company_action" and fiche in step.get("needed_by", []):
                bringers.append({"step": step["step"], "kind": "company_action", "id": step["id"],
                                 "label": step["label"], "fact": step.get("fact")})
            elif step["kind"] == "fiche" and step["fiche"] in first.get("after", []):
                provided = [f for f in kb.fiche(step["fiche"]).provides
                            if any(f in c.facts for c in kb.conditions[fiche])]
                bringers.append({"step": step["step"], "kind": "fiche", "fiche": step["fiche"],
                                 "title": step["title"], "provides": provided, "part": step.get("part")})
    used_rules = {t.rule for c in status.conditions for t in c.tests if t.rule}
    fired = [t for t in result.get("trace", []) if t["rule"] in used_rules]
    take = what_would_it_take(profile, fiche, kb, lang) if status.status != "eligible" else \
        {"already_eligible": True, "options": [], "impossible": []}
    return {
        "fiche": fiche,
        "title": kb.fiche(fiche).title,
        "status": status.status,
        "recorded_status": entry["status"],
        "status_rule": status.rule,
        "in_plan": in_plan,
        "why": {
            "steps": [{"step": s["step"], "part": s.get("part"), "because": s["because"],
                       "because_text": [describe_rule(r, lang) for r in s["because"]]} for s in steps],
            "brought_by": bringers,
        },
        "conditions": [reason(c) for c in status.conditions],
        "why_not": [reason(c) for c in status.conditions if c.outcome == "failed"],
        "unknown": [reason(c) for c in status.conditions if c.outcome == "unknown"],
        "rules_fired": fired,
        "what_would_it_take": take,
        "warnings": [w for w in result.get("warnings", []) if w.get("fiche") == fiche],
    }
