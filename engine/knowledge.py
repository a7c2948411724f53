"""The knowledge base: the 27 fiches and the guide-wide texts, loaded and checked.

The loader is strict (unknown or duplicate keys, wrong types and dangling references
are errors naming file and key) because every decision pnman makes rests on it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import KnowledgeError
from .yamlio import DuplicateKeyError, load_knowledge_yaml

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"
SIZE_CODES = ("TPE", "PE", "ME")
TOOLS = ("gpao", "gmao", "cfao", "cao", "erp", "crm", "website", "ecommerce", "emarketing")
SizeCode = Literal["TPE", "PE", "ME"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class BudgetLine(_Strict):
    category: str
    description: str
    amount_da_ht: int


class SizeTable(_Strict):
    lines: list[BudgetLine]
    total_da_ht: int

    @property
    def lines_sum(self) -> int:
        return sum(line.amount_da_ht for line in self.lines)


class Days(_Strict):
    days: int
    tolerance: int = 0
    text: str


class DayOption(_Strict):
    label: str
    min_days: int
    max_days: int
    text: str


class PricedOption(_Strict):
    label: str
    description: Optional[str] = None
    min_da_ht: int
    max_da_ht: int
    sizes: str = "5-250"


class WorkstationLimit(_Strict):
    TPE: int
    PE: int
    ME: int
    text: str


class Budget(_Strict):
    text: list[str] = []
    by_size: Optional[dict[SizeCode, SizeTable]] = None
    days: Optional[dict[SizeCode, Days]] = None
    post_erp_days: Optional[dict[SizeCode, Days]] = None
    options: Optional[list[PricedOption]] = None
    options_cumulative: bool = False        # options may be combined (their ceilings add up)
    day_options: Optional[list[DayOption]] = None
    per_expert: bool = False
    experts_count: int = 1
    workstation_limit: Optional[WorkstationLimit] = None


class Entry(_Strict):
    text: str
    section: Optional[str] = None
    intent: bool = False
    requires: Optional[dict[str, Any]] = None
    requires_any: Optional[list[dict[str, Any]]] = None
    interpretation: Optional[str] = None


class Step(_Strict):
    title: str
    items: list[str] = []


class Activities(_Strict):
    intro: Optional[str] = None
    steps: list[Step] = []


class Expert(_Strict):
    role: Optional[str] = None
    qualification: list[str]
    general_experience: str
    specific_experience: list[str]


class Fiche(_Strict):
    fiche: int
    title: str
    axis: Literal[1, 2, 3, 4]
    type: Literal["investment", "coaching"]
    tool: Optional[Literal[TOOLS]] = None  # type: ignore[valid-type]
    pair: Optional[dict[Literal["acquisition", "preparation"], int]] = None
    objectives: list[str]
    expected_results: list[str]
    population: list[Entry]
    prerequisites: list[Entry]
    scope: list[Entry] = []
    activities: Optional[Activities] = None
    experts: list[Expert] = []
    budget: Budget
    provides: list[str] = []
    interpretations: list[str] = []


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

    @property
    def facts(self) -> tuple[str, ...]:
        return tuple(t.fact for t in self.tests)


@dataclass(frozen=True, eq=False)
class Knowledge:
    guide: dict
    facts: dict
    fiches: dict[int, Fiche]
    conditions: dict[int, tuple[Condition, ...]]
    intents: dict[int, tuple[Citation, ...]]
    version: str
    files: dict[int, str] = field(default_factory=dict)

    def fiche(self, number: int) -> Fiche:
        return self.fiches[number]

    @property
    def size_classes(self) -> list[dict]:
        return self.guide["size_classes"]["classes"]

    def size_class(self, employees: int | None) -> str | None:
        if employees is None:
            return None
        for cls in self.size_classes:
            if cls["min"] <= employees <= cls["max"]:
                return cls["code"]
        return None

    def tests(self) -> list[Test]:
        """Every distinct fact test used by a condition, in a stable order (computed once)."""
        return self._tests

    @cached_property
    def _tests(self) -> list[Test]:
        seen: dict[str, Test] = {}
        for conditions in self.conditions.values():
            for condition in conditions:
                for test in condition.tests:
                    seen.setdefault(test.id, test)
        return [seen[k] for k in sorted(seen)]

    def test_citations(self) -> dict[str, tuple[list[str], list[dict]]]:
        """For each test id: the conditions that use it and their citations (computed once)."""
        return self._test_citations

    @cached_property
    def _test_citations(self) -> dict[str, tuple[list[str], list[dict]]]:
        found: dict[str, tuple[list[str], list[dict]]] = {}
        for conditions in self.conditions.values():
            for condition in conditions:
                for test in condition.tests:
                    ids, citations = found.setdefault(test.id, ([], []))
                    ids.append(condition.id)
                    citation = condition.citation.as_dict()
                    if citation not in citations:
                        citations.append(citation)
        return found

    def providers(self, fact: str) -> list[int]:
        """Fiches that bring the fact about, in the guide's preference order."""
        preferred = self.guide.get("provider_preference", {}).get(fact)
        found = [n for n, f in sorted(self.fiches.items()) if fact in f.provides]
        if preferred:
            return [n for n in preferred if n in found] + [n for n in found if n not in preferred]
        return found


def _fact_tests(requires: dict, facts: dict, where: str) -> list[Test]:
    tests = []
    for fact, expected in requires.items():
        spec = facts.get(fact)
        if spec is None:
            raise KnowledgeError("unknown profile fact (expected one of contract §2)", file=where, key=fact)
        ftype = spec["type"]
        if ftype == "bool" and isinstance(expected, bool):
            tests.append(Test(fact, "eq", expected))
        elif ftype == "list" and isinstance(expected, str):
            choices = spec.get("choices", [])
            if expected not in choices:
                raise KnowledgeError(f"'{expected}' is not one of {choices}", file=where, key=fact)
            tests.append(Test(fact, "contains", expected))
        elif ftype == "int" and isinstance(expected, dict) and set(expected) == {"max"}:
            tests.append(Test(fact, "max", int(expected["max"])))
        else:
            raise KnowledgeError(f"test {expected!r} does not fit a fact of type {ftype}", file=where, key=fact)
    return tests


def _derive_conditions(fiche: Fiche, guide: dict, facts: dict, where: str):
    """Turn the fiche's population, prerequisites and scope into conditions with ids."""
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
            for test in _fact_tests(entry.requires or {}, facts, where):
                kind = "eligibility" if facts[test.fact]["role"] == "eligibility" else "prerequisite"
                if test.fact == "uses_it" and test.value is False:
                    kind = "eligibility"   # fiche 13's scope: a company already using IT is outside it
                conditions.append(Condition(f"f{fiche.fiche}.{key}.{test.fact}", fiche.fiche, kind,
                                            (test,), False, citation, entry.interpretation))
            if entry.requires_any:
                tests = [t for alt in entry.requires_any for t in _fact_tests(alt, facts, where)]
                name = "_or_".join(t.fact for t in tests)
                kinds = {facts[t.fact]["role"] for t in tests}
                kind = "eligibility" if kinds == {"eligibility"} else "prerequisite"
                conditions.append(Condition(f"f{fiche.fiche}.{key}.{name}", fiche.fiche, kind,
                                            tuple(tests), True, citation, entry.interpretation))
    general = guide["general_conditions"]
    conditions.append(Condition(f"f{fiche.fiche}.general.general_conditions", fiche.fiche, "eligibility",
                                (Test("general_conditions", "eq", True),), False,
                                Citation(fiche.fiche, general["section"], general["text"]),
                                general.get("interpretation")))
    sizes = guide["size_classes"]
    size_text = " • ".join(c["text"] for c in sizes["classes"])
    conditions.append(Condition(f"f{fiche.fiche}.general.size_class", fiche.fiche, "eligibility",
                                (Test("employees", "size", "5-250"),), False,
                                Citation(sizes["citation"]["fiche"], sizes["citation"]["section"], size_text),
                                sizes.get("interpretation")))
    ids = [c.id for c in conditions]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise KnowledgeError(f"duplicate condition ids {sorted(duplicates)}", file=where)
    return tuple(conditions), tuple(intents)


def _format_validation(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown key (not in the fiche schema, see knowledge/README.md)"
    elif err["type"] == "missing":
        message = "required key is missing"
    return key, message


def _read(path: Path) -> Any:
    try:
        return load_knowledge_yaml(path)
    except DuplicateKeyError as exc:
        raise KnowledgeError(str(exc), file=str(path)) from exc
    except Exception as exc:  # yaml errors: keep the parser's message
        raise KnowledgeError(f"cannot be read as YAML: {exc}", file=str(path)) from exc


def _check_references(fiches: dict[int, Fiche], guide: dict, facts: dict, files: dict[int, str]) -> None:
    expected = set(range(1, 28))
    if set(fiches) != expected:
        missing = sorted(expected - set(fiches))
        extra = sorted(set(fiches) - expected)
        raise KnowledgeError(f"the guide has fiches 1 to 27; missing {missing}, unexpected {extra}",
                             file=str(KNOWLEDGE_DIR / "fiches"))
    for number, fiche in fiches.items():
        where = files[number]
        for fact in fiche.provides:
            if fact not in facts:
                raise KnowledgeError(f"provides an unknown fact '{fact}'", file=where, key="provides")
        if fiche.pair:
            for role, other in fiche.pair.items():
                back = "preparation" if role == "acquisition" else "acquisition"
                partner = fiches.get(other)
                if partner is None:
                    raise KnowledgeError(f"pair names fiche {other}, which does not exist", file=where, key="pair")
                if not partner.pair or partner.pair.get(back) != number:
                    raise KnowledgeError(f"pair {role}: {other} is not mirrored by fiche {other} ({back}: {number})",
                                         file=where, key="pair")
        budget = fiche.budget
        if fiche.type == "investment" and not (budget.by_size or budget.options):
            raise KnowledgeError("an investment fiche needs by_size or options", file=where, key="budget")
        if fiche.type == "coaching" and not (budget.days or budget.day_options):
            raise KnowledgeError("a coaching fiche needs days or day_options", file=where, key="budget")
    for goal, spec in guide["goals"].items():
        for role in ("fiche", "preparation"):
            if role in spec and spec[role] not in fiches:
                raise KnowledgeError(f"goal names fiche {spec[role]}, which does not exist",
                                     file=str(KNOWLEDGE_DIR / "guide.yaml"), key=f"goals.{goal}")
    for rule in guide.get("implications", []):
        for part in ("if", "then"):
            for fact in rule[part]:
                if fact not in facts:
                    raise KnowledgeError(f"unknown fact '{fact}'", file=str(KNOWLEDGE_DIR / "guide.yaml"),
                                         key=f"implications.{rule['id']}.{part}")


def _version(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return "kb-" + digest.hexdigest()[:16]


def load(directory: Path | str = KNOWLEDGE_DIR) -> Knowledge:
    """Load and check the knowledge base in `directory`."""
    directory = Path(directory)
    guide_path, facts_path = directory / "guide.yaml", directory / "facts.yaml"
    guide = _read(guide_path)
    facts = _read(facts_path)
    if not isinstance(guide, dict) or not isinstance(facts, dict):
        raise KnowledgeError("top level must be a mapping", file=str(guide_path if not isinstance(guide, dict) else facts_path))
    fiche_paths = sorted((directory / "fiches").glob("*.yaml"))
    fiches: dict[int, Fiche] = {}
    files: dict[int, str] = {}
    conditions: dict[int, tuple[Condition, ...]] = {}
    intents: dict[int, tuple[Citation, ...]] = {}
    for path in fiche_paths:
        data = _read(path)
        if not isinstance(data, dict):
            raise KnowledgeError("top level must be a mapping of fiche keys", file=str(path))
        try:
            fiche = Fiche.model_validate(data)
        except ValidationError as exc:
            key, message = _format_validation(exc)
            raise KnowledgeError(message, file=str(path), key=key) from None
        prefix = path.name.split("-", 1)[0]
        if not prefix.isdigit() or int(prefix) != fiche.fiche:
            raise KnowledgeError(f"file name must start with the fiche number {fiche.fiche:02d}", file=str(path), key="fiche")
        if fiche.fiche in fiches:
            raise KnowledgeError(f"fiche {fiche.fiche} is also defined in {files[fiche.fiche]}", file=str(path), key="fiche")
        fiches[fiche.fiche] = fiche
        files[fiche.fiche] = str(path)
        conditions[fiche.fiche], intents[fiche.fiche] = _derive_conditions(fiche, guide, facts, str(path))
    _check_references(fiches, guide, facts, files)
    version = _version([guide_path, facts_path, *fiche_paths])
    kb = Knowledge(guide, facts, dict(sorted(fiches.items())), conditions, intents, version, files)
    from .graph import check_acyclic  # the graph module builds on the loaded knowledge
    check_acyclic(kb)
    return kb


@lru_cache(maxsize=1)
def default() -> Knowledge:
    """The shipped knowledge base, loaded once per process."""
    return load(KNOWLEDGE_DIR)
