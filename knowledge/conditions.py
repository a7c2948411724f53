"""A fiche's conditions, derived from its population, prerequisites and scope entries.

Each condition is tied to profile facts through tests (`fact <op> value`) and carries
the guide's sentence it encodes, so every decision can be cited.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple, Optional

from .errors import KnowledgeError
from .model import Entry, FactSpec, Fiche, Guide


@dataclass(frozen=True)
class Citation:
    fiche: int
    section: str
    text: str

    def as_dict(self) -> dict:
        return {"fiche": self.fiche, "section": self.section, "text": self.text}


@dataclass(frozen=True)
class Test:
    """One fact test: `fact <op> value`. ops: eq (bool), contains (list), max (int), size (employees)."""
    fact: str
    op: str
    value: Any

    @cached_property
    def id(self) -> str:
        value = str(self.value).lower()
        return f"test.{self.fact}.{self.op}.{value}"


@dataclass(frozen=True)
class Condition:
    """A condition of a fiche, as the guide states it, tied to profile facts."""
    id: str
    fiche: int
    kind: str                       # eligibility | prerequisite
    tests: tuple[Test, ...]         # all must hold, or any when any_of
    any_of: bool
    citation: Citation
    interpretation: Optional[str] = None
    excludes: bool = False          # failing puts the company outside the fiche for good
    clause: str = ""                # the id within its fiche (population.recommendations), the same for every fiche

    @classmethod
    def of(cls, fiche: int, clause: str, *args, **kwargs) -> Condition:
        """A condition named once: `f<fiche>.<clause>` is its id."""
        return cls(f"f{fiche}.{clause}", fiche, *args, clause=clause, **kwargs)

    @cached_property
    def facts(self) -> tuple[str, ...]:
        return tuple(t.fact for t in self.tests)

    @cached_property
    def test_ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.tests)


class SizeRange(NamedTuple):
    """The headcounts the guide's size classes cover: a `size` test's value. It is spelled
    `min-max` in the test's id and a record's `expected` (str), and read by its fields."""
    low: int
    high: int

    def __str__(self) -> str:
        return f"{self.low}-{self.high}"


def size_range(guide: Guide) -> SizeRange:
    """The headcounts the guide's size classes cover."""
    classes = guide.size_classes.classes
    return SizeRange(min(c.min for c in classes), max(c.max for c in classes))


def fact_tests(requires: dict, facts: dict[str, FactSpec], where: str) -> list[Test]:
    tests = []
    for fact, expected in requires.items():
        spec = facts.get(fact)
        if spec is None:
            raise KnowledgeError("unknown profile fact (expected a key of facts.yaml)", file=where, key=fact)
        if spec.type == "bool" and isinstance(expected, bool):
            tests.append(Test(fact, "eq", expected))
        elif spec.type == "list" and isinstance(expected, str):
            if expected not in spec.choices:
                raise KnowledgeError(f"'{expected}' is not one of {spec.choices}", file=where, key=fact)
            tests.append(Test(fact, "contains", expected))
        elif spec.type == "int" and isinstance(expected, dict) and set(expected) == {"max"}:
            tests.append(Test(fact, "max", int(expected["max"])))
        else:
            raise KnowledgeError(f"test {expected!r} does not fit a fact of type {spec.type}", file=where, key=fact)
    return tests


def _entry_conditions(fiche: Fiche, key: str, entry: Entry, citation: Citation,
                      facts: dict[str, FactSpec], where: str) -> list[Condition]:
    out = []
    for test in fact_tests(entry.requires or {}, facts, where):
        kind = "eligibility" if entry.excludes or facts[test.fact].role == "eligibility" else "prerequisite"
        out.append(Condition.of(fiche.fiche, f"{key}.{test.fact}", kind, (test,), False,
                                citation, entry.interpretation, entry.excludes))
    if entry.requires_any:
        tests = [t for alt in entry.requires_any for t in fact_tests(alt, facts, where)]
        name = "_or_".join(t.fact for t in tests)
        kinds = {facts[t.fact].role for t in tests}
        kind = "eligibility" if entry.excludes or kinds == {"eligibility"} else "prerequisite"
        out.append(Condition.of(fiche.fiche, f"{key}.{name}", kind, tuple(tests), True,
                                citation, entry.interpretation, entry.excludes))
    return out


def derive_conditions(fiche: Fiche, guide: Guide, facts: dict[str, FactSpec],
                      where: str) -> tuple[tuple[Condition, ...], tuple[Citation, ...]]:
    """The fiche's conditions (with ids) and its intents (sentences the goals satisfy)."""
    conditions: list[Condition] = []
    intents: list[Citation] = []
    sections = (("population", "Population cible", fiche.population),
                ("prerequisite", "Pré-requis", fiche.prerequisites),
                ("scope", None, fiche.scope))
    for key, section_name, entries in sections:
        for entry in entries:
            section = entry.section or section_name
            if section is None:
                raise KnowledgeError("a scope entry needs a section", file=where, key="scope")
            citation = Citation(fiche.fiche, section, entry.text)
            if entry.intent:
                intents.append(citation)
                continue
            if not entry.requires and not entry.requires_any:
                raise KnowledgeError(f"entry has neither intent nor requires: {entry.text[:60]}", file=where, key=key)
            conditions.extend(_entry_conditions(fiche, key, entry, citation, facts, where))
    general = guide.general_conditions
    conditions.append(Condition.of(fiche.fiche, "general.general_conditions", "eligibility",
                                   (Test("general_conditions", "eq", True),), False,
                                   Citation(fiche.fiche, general.section, general.text), general.interpretation))
    sizes = guide.size_classes
    size_text = " • ".join(c.text for c in sizes.classes)
    conditions.append(Condition.of(fiche.fiche, "general.size_class", "eligibility",
                                   (Test("employees", "size", size_range(guide)),), False,
                                   Citation(sizes.citation.fiche, sizes.citation.section, size_text),
                                   sizes.interpretation))
    ids = [c.id for c in conditions]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise KnowledgeError(f"duplicate condition ids {sorted(duplicates)}", file=where)
    return tuple(conditions), tuple(intents)
