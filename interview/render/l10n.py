"""The one localisation step: codes and figures in, a person's words out.

The engine's records carry no wording; `localise` adds `lang`, a step's `label` and a
warning's `message` (the fields engine.record.LOCALISED leaves out of the digest), and
`Words` gives every renderer the catalogue's sentences with figures filled in.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable

import orjson
from babel.lists import format_list
from babel.numbers import format_decimal

from pnman.engine.plan_warnings import contradiction_rules
from pnman.engine.record import seal
from pnman.knowledge.loader import Knowledge
from pnman.knowledge.locales import Catalogue, catalogue

from .reasons import condition_words, describe_rule
from .safe import plain


WARNINGS_KEPT = 4096    # worded warnings a Words keeps (emptied when full: a miss only words it again)


class Words:
    """A language's catalogue with the formatting every face shares."""

    def __init__(self, lang: str, kb: Knowledge, glue: str = " "):
        self.lang = lang
        self.kb = kb
        self.cat: Catalogue = catalogue(lang, kb.directory / "locales")
        self.glue = glue    # what joins the parts of one figure (« 2 400 000 DA HT »): never broken

    def glued(self, glue: str) -> "Words":
        """The same words whose figures hold together with `glue` (a no-break space in HTML,
        a placeholder the text renderer turns back into a space once lines are laid out)."""
        other = Words.__new__(Words)
        other.__dict__.update(self.__dict__, glue=glue)
        return other

    def __call__(self, key: str, **figures: Any) -> str:
        return self.cat.text(key, **figures)

    # -- figures -----------------------------------------------------------------------
    def _figure(self, text: str) -> str:
        return text.replace(" ", self.glue) if self.glue != " " else text

    def number(self, value: int | float) -> str:
        """A number as the catalogue's locale groups it, in Latin digits (« 2 400 000 » in
        French, « 2,400,000 » in English, « 2.400.000 » in Algerian Arabic): CLDR's spaces
        (U+202F, U+00A0) become the glue, so a figure never breaks inside."""
        text = format_decimal(value, locale=self.cat.cldr, numbering_system="latn")
        return self._figure(text.replace("\u202f", " ").replace("\u00a0", " "))

    def da(self, amount: int) -> str:
        return self._figure(self("format.da", amount=self.number(amount)))

    def date(self, timestamp: str) -> str:
        """The day of an ISO timestamp as the locale writes it (« 12 mars 2025 », « 12 مارس
        2025 »); anything else as it is."""
        try:
            day = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
        except ValueError:
            return plain(timestamp)
        from babel.dates import format_date     # ~3 ms of every start-up: loaded when a date is worded
        return format_date(day, format="long", locale=self.cat.cldr)

    def moment(self, timestamp) -> str:
        """A date and time as the locale writes them briefly (« 6 déc. 2026 17:50 »), in Latin
        digits; anything else as it is."""
        try:
            moment = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
        except ValueError:
            return plain(timestamp)
        from babel.dates import format_date, format_time
        return f"{format_date(moment, format='medium', locale=self.cat.cldr)} {format_time(moment, 'HH:mm', locale=self.cat.cldr)}"

    def da_range(self, low: int, high: int) -> str:
        """A range of amounts; equal ends print once, a range from nothing is « up to »."""
        if low == high:
            return self.da(low)
        if low == 0:
            return self("format.up_to", high=self.da(high))
        return self("format.range", low=self.da(low), high=self.da(high))

    def days(self, days) -> str:
        return self._figure(self("format.days", days=days, count=days))

    def tolerance(self, tolerance) -> str:
        return " " + self._figure(self("format.tolerance", tolerance=tolerance).strip())

    def days_range(self, low, high) -> str:
        """Coaching days: none, one figure, « up to », or a range."""
        if not low and not high:
            return self("format.no_days")
        if low == high:
            return self.days(low)
        if not low:
            return self("format.up_to", high=self.days(high))
        return self._figure(self("format.days_range", low=low, high=high))

    def field(self, label: str, value: Any) -> str:
        """« Label : value » with the language's punctuation."""
        return self("format.field", label=label, value=value)

    def join(self, items: Iterable[Any]) -> str:
        """Items side by side (tags, labels): the catalogue's separator, no conjunction."""
        return self.cat.text("format.list_separator").join(str(i) for i in items)

    def and_list(self, items: Iterable[Any]) -> str:
        """A list as the language ends it (« 20 et 23 », « 20 and 23 », « 20 و23 »): CLDR's
        list patterns through Babel."""
        return format_list([str(i) for i in items], locale=self.cat.cldr)

    def count(self, key: str, value: int | float) -> str:
        """A counted noun (`counts.*`): the figure as the locale writes it, the noun in the
        plural form the figure takes (« 1 personne », « 32 شخصًا »)."""
        return self._figure(self(key, count=value, n=self.number(value)))

    def fiche_list(self, key: str, numbers: Iterable[int]) -> str:
        """A phrase on a list of fiches (`lists.*`: « requise par les fiches 20 et 23 »)."""
        numbers = list(numbers)
        return self(key, count=len(numbers), list=self.and_list(numbers))

    def value(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    # -- codes ---------------------------------------------------------------------------
    def status(self, code: str) -> str:
        return self(f"status.{code}")

    def outcome(self, code: str) -> str:
        return self(f"outcome.{code}")

    def fiche_type(self, code: str) -> str:
        return self(f"type.{code}")

    def part(self, code: str | None) -> str:
        return self(f"parts.{code or 'main'}")

    def fact(self, key: str) -> str:
        return self(f"facts.{key}.label")

    def action(self, key: str) -> str:
        return self.cat.get(f"facts.{key}.action") or self.fact(key)

    def goal(self, code: str) -> str:
        return self(f"goals.{code}")

    def interpretation(self, text: str | None) -> str | None:
        """An interpretation note of the knowledge (French) in this language: the catalogue's
        words under one of the ids that carry it (`interpretations.<id>`), else the French."""
        if not text or not self.cat.translation:
            return text
        for source in self.kb.interpretation_sources.get(text, ()):
            words = self.cat.get(f"interpretations.{source}")
            if words:
                return words
        return text

    def fiche_title(self, number: int) -> str:
        """A fiche's short title with its tool (« Préparation GPAO », « اقتناء نظام GPAO »): ours,
        in the reader's language, for tables and graphs; the guide's own French title is quoted
        wherever a citation is shown."""
        fiche = self.kb.fiche(number)
        return self.cat.get(f"fiche_titles.{number}") or fiche.short_title or fiche.title

    def fact_value(self, fact: str, value: Any) -> str:
        """A fact's value as a person reads it: oui/non, the choices' words, a number."""
        spec = self.kb.facts.get(fact)
        kind = spec.type if spec is not None else None
        if value is None:
            return self.outcome("unknown")
        if kind == "bool" and isinstance(value, bool):
            return self.answer("bool", value)
        if kind == "list" and isinstance(value, list):
            return self.answer("goals" if fact == "goals" else "list", value, fact)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.number(value)
        if isinstance(value, list):
            return self.join(plain(v) for v in value) or self("answers.none")
        return plain(value)

    def condition(self, condition_id: str):
        """The knowledge's condition behind an id of a record (None for an id it lacks)."""
        table = self.__dict__.get("_conditions")
        if table is None:
            table = {c.id: c for conditions in self.kb.conditions.values() for c in conditions}
            self.__dict__["_conditions"] = table
        return table.get(condition_id)

    def citation(self, citation: dict) -> str:
        """« text » (fiche N, section): the guide's words as they are, the section's name in
        the reader's language (guide_sections)."""
        return self("format.citation", **dict(citation, section=self.section(citation["section"])))

    def section(self, name: str) -> str:
        """A section of a fiche (« Population cible ») in the reader's language."""
        return self.cat.get(f"guide_sections.{name}") or name

    def size_range(self) -> str:
        classes = self.kb.size_classes
        return f"{min(c.min for c in classes)}–{max(c.max for c in classes)}"

    def size_range_end(self) -> int:
        """The last headcount of the size classes: a noun after a range agrees with it."""
        return max(c.max for c in self.kb.size_classes)

    def answer(self, kind: str, value: Any, key: str = "") -> str:
        """An answer as a person reads it (the review screen, the transcript)."""
        if value is None:
            return self("answers.unknown")
        if kind == "bool":
            return self("answers.yes" if value else "answers.no")
        if kind == "goals":
            return self.join(self.goal(v) for v in value) or self("answers.none")
        if kind == "list":
            return self.join(self.cat.get(f"choices.{key}.{v}", str(v)) for v in value) or self("answers.none")
        if kind == "fiches":
            return self.join(value) or self("answers.none")
        return plain(value)

    # -- whole sentences -------------------------------------------------------------------
    def step_label(self, step: dict) -> str:
        """A company action in words (« Vérifier : … » when the fact is only unknown)."""
        if step.get("check_only"):
            facts = step.get("any_of") or [step["fact"]]
            return self("report.check", label=self("report.reason.or").join(self.fact(f) for f in facts))
        return self.action(step["fact"])

    def warning(self, warning: dict) -> str:
        """A plan warning in words: the same code, fiche and figures give the same sentence,
        so each is worded once (a portfolio's companies share a few hundred warnings; the
        wording was a fifth of localising a record)."""
        code = warning["code"]
        key = (self.glue, orjson.dumps([code, warning.get("fiche"), warning.get("figures")], option=orjson.OPT_SORT_KEYS))
        worded = self.__dict__.setdefault("_warnings", {})     # glued() copies share it: the glue is in the key
        message = worded.get(key)
        if message is None:
            fields = _warning_fields(self, code, dict(warning.get("figures") or {}))
            message = self(f"warnings.{code}", fiche=warning.get("fiche"), **fields)
            if len(worded) >= WARNINGS_KEPT:
                worded.clear()
            worded[key] = message
        return message

    def finding(self, finding: dict) -> str:
        code, figures = finding["code"], dict(finding.get("figures") or {})
        fields = _finding_fields(self, code, figures)
        return self(f"findings.{code}", fiche=finding.get("fiche"), **fields)


def _failing(w: Words, ids: list[str]) -> str:
    return w("format.separator").join(dict.fromkeys(condition_words(i, w) for i in ids))


def implied_words(w: Words, rule: str) -> str:
    """An implication in words: the fact and value it follows from (its id stays in the record)."""
    for implication in w.kb.implications:
        if implication.id == rule:
            fact, value = implication.premise
            return w("report.implied_from", fact=w.fact(fact), value=w.fact_value(fact, value))
    return rule


def _warning_fields(w: Words, code: str, f: dict) -> dict:
    if code == "missing_size_figure":
        return {"part": w.part(f.get("part")), "size": f["size_class"], "used": f["assumed_from"], "text": f["text"]}
    if code == "total_mismatch":
        low, high = sorted((f["printed_total_da_ht"], f["lines_sum_da_ht"]))
        return {"size": f["size_class"], "total": w.da(f["printed_total_da_ht"]), "lines": w.da(f["lines_sum_da_ht"]),
                "low": w.da(low), "high": w.da(high)}
    if code == "unknown_status":
        return {"facts": w.join(w.fact(fact) for fact in f["unknown_facts"])}
    if code == "preparation_ineligible":
        return {"prep": f["preparation"], "failing": _failing(w, f["failing"]) or w("warnings.ineligible_status")}
    if code == "goal_ineligible":
        return {"rule": describe_rule(f["rule"], w), "failing": _failing(w, f["failing"])}
    if code == "workstation_limit":
        return {"wanted": w.count("counts.workstations", f["workstations_needed"]),
                "cap": w.count("counts.computers", f["limit"]), "size": f["size_class"], "text": f["text"]}
    if code == "part_awaits_acquisition":
        return {"part": w.part(f["part"]), "acquisition": f["acquisition"], "text": f.get("text") or ""}
    if code == "goal_served_by_preparation":
        return {"goal": w.goal(f["goal"]), "preparation": f["preparation"]}
    if code == "contradictory_facts":
        fact, implied = f["fact"], f["implied"]
        implied = w.join(w.fact_value(fact, v) for v in implied) if isinstance(implied, list) \
            else w.fact_value(fact, implied)
        return {"fact": w.fact(fact), "stated": w.fact_value(fact, f["stated"]), "implied": implied,
                "rule": w.join(implied_words(w, rule) for rule in contradiction_rules(f))}
    return f


def _finding_fields(w: Words, code: str, f: dict) -> dict:
    if code == "total_mismatch":
        return {"size": f["size_class"], "total": w.da(f["printed_total_da_ht"]), "lines": w.da(f["lines_sum_da_ht"])}
    if code == "missing_size_figure":
        return {"table": w(f"findings.tables.{f['table']}"), "missing": w.join(f["missing"]),
                "printed": w.join(f["printed_for"])}
    if code in ("odd_ranges", "touching_ranges"):
        first, second = f["first"], f["second"]
        return {"first": first["label"], "second": second["label"], "second_min": w.da(second["min_da_ht"]),
                "first_max": w.da(first["max_da_ht"]), "boundary": w.da(first["max_da_ht"])}
    if code == "currency_notation":
        return {"description": f["description"][:60]}
    return f


def localise(record: dict, words: Words) -> dict:
    """The engine record with the words for a person (lang, labels, messages), sealed with
    its record hash: the record as it leaves pnman. Only what gets words is copied; the
    rest is the engine record's own (a record is not edited once made). A record already
    localised gets the words of `words`' language instead (the decision digest is the same)."""
    out = {"schema": record.get("schema"), "lang": words.lang, **{k: v for k, v in record.items() if k != "lang"}}
    out["plan"] = [dict(step, label=words.step_label(step)) if step.get("kind") == "company_action" else step
                   for step in record.get("plan", [])]
    out["warnings"] = [dict(warning, message=words.warning(warning)) for warning in record.get("warnings", [])]
    return seal(out)
