"""Load the knowledge base: read every file strictly, derive the conditions, build the graph.

A broken file is a `KnowledgeError` naming the file and the key, never a raw KeyError:
the CLI turns it into exit 2.
"""
from __future__ import annotations

import gc
import os
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, TypeVar

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pydantic import ValidationError

from .conditions import Citation, Condition, Test, derive_conditions
from .errors import KnowledgeError, Phrase, ValueOutOfRange
from .figures import Amendment
from .fingerprint import version_of
from .graph import DependencyGraph
from .model import SIZE_CODES, FactSpec, Fiche, Guide, Implication, QuestionSpec


KNOWLEDGE_DIR = Path(__file__).resolve().parent
BASE_EDITION = "base"       # the printed guide; other editions: knowledge/editions.py
Model = TypeVar("Model")


@dataclass(frozen=True, eq=False)
class Knowledge:
    guide: Guide
    facts: dict[str, FactSpec]
    questions: dict[str, QuestionSpec]
    fiches: dict[int, Fiche]
    conditions: dict[int, tuple[Condition, ...]]
    intents: dict[int, tuple[Citation, ...]]
    version: str
    graph: DependencyGraph
    files: dict[int, str] = field(default_factory=dict)
    directory: Path = KNOWLEDGE_DIR
    # The edition whose figures these are (knowledge/editions.py): the printed guide, or an
    # overlay of dated figures on it; `amendments` (fiche -> changed figures) and `base` (the
    # printed guide's Knowledge) are set for an overlay only.
    edition: str = BASE_EDITION
    amendments: dict[int, tuple[Amendment, ...]] = field(default_factory=dict)     # knowledge.figures
    base: Knowledge | None = None

    def fiche(self, number: int) -> Fiche:
        return self.fiches[number]

    @property
    def size_classes(self):
        return self.guide.size_classes.classes

    def size_class(self, employees: int | None) -> str | None:
        if employees is None:
            return None
        for cls in self.size_classes:
            if cls.min <= employees <= cls.max:
                return cls.code
        return None

    @property
    def implications(self) -> list[Implication]:
        return self.guide.implications

    @cached_property
    def implication(self) -> dict[str, Implication]:
        return {rule.id: rule for rule in self.guide.implications}

    @cached_property
    def condition(self) -> dict[str, Condition]:
        """Every condition of the fiches by its id (`f18.prerequisite.local_network`): what a
        stored record's condition line names, read as a Condition (its clause, its kind)."""
        return {c.id: c for conditions in self.conditions.values() for c in conditions}

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

    @cached_property
    def interpretation_sources(self) -> dict[str, tuple[str, ...]]:
        """Each interpretation note's French text -> the ids that carry it: conditions
        (`f4.population.pnman_member`), implications (`implies.no_it.no_network`) and fiche
        notes (`f9.note2`). A catalogue words a note under any one of its ids
        (`interpretations.<id>`): the knowledge stays the source, in French."""
        found: dict[str, list[str]] = {}
        for conditions in self.conditions.values():
            for condition in conditions:
                if condition.interpretation:
                    found.setdefault(condition.interpretation, []).append(condition.id)
        for rule in self.guide.implications:
            if rule.interpretation:
                found.setdefault(rule.interpretation, []).append(rule.id)
        for number, fiche in self.fiches.items():
            for index, note in enumerate(fiche.interpretations, start=1):
                found.setdefault(note, []).append(f"f{number}.note{index}")
        return {text: tuple(ids) for text, ids in found.items()}

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
        return self.graph.providers(fact)

    def unchangeable(self, test: Test, condition: Condition) -> bool:
        """A failing test the company cannot turn: its size, its sector, or a scope that excludes it."""
        return condition.excludes or self.facts[test.fact].unchangeable


# pydantic's error types (their prefix) and what the catalogues' `errors.schema.*` call them:
# pydantic words its messages in English only.
SCHEMA_PROBLEMS = {"extra_forbidden": "unknown_key", "missing": "missing", "int": "int", "bool": "bool",
                   "string": "string", "str": "string", "date": "date", "float": "number", "decimal": "number",
                   "list": "list", "tuple": "list", "dict": "mapping", "model": "mapping", "literal": "literal",
                   "enum": "literal", "greater_than": "greater_than", "less_than": "less_than",
                   "too_short": "too_short", "too_long": "too_long"}


OUT_OF_RANGE = frozenset({"less_than_equal", "greater_than_equal", "less_than", "greater_than"})


def _format_validation(exc: ValidationError) -> tuple[str, Phrase]:
    """The first problem pydantic found: the key (dotted path) and what was wrong, as a Phrase."""
    err = exc.errors()[0]
    return ".".join(str(p) for p in err["loc"]) or "(top level)", schema_problem(err)


def schema_problem(err: dict) -> Phrase:
    """What one of pydantic's errors (a dict of `errors()`) says, in the catalogues' words."""
    kind = str(err.get("type", ""))
    name = SCHEMA_PROBLEMS.get(kind) or SCHEMA_PROBLEMS.get(kind.split("_")[0]) or \
        next((v for k, v in SCHEMA_PROBLEMS.items() if kind.startswith(k)), "other")
    context = err.get("ctx") or {}
    limit = next((context[k] for k in ("ge", "gt", "le", "lt", "min_length", "max_length", "expected") if k in context), "")
    return Phrase(f"schema.{name}", limit=limit, found=repr(err.get("input"))[:60], kind=kind)


def _validated(schema: Any, data: Any, path: Path) -> Any:
    """Data checked against a model of model.py (or a mapping of them), or a pydantic model,
    naming file and key; the plain values (knowledge/schema.py)."""
    from pydantic import BaseModel, TypeAdapter, ValidationError

    from .schema import plain, twin_of
    if not isinstance(data, dict):
        raise KnowledgeError("top level must be a mapping", file=str(path))
    checking = twin_of(schema)
    try:
        if isinstance(checking, type) and issubclass(checking, BaseModel):
            return plain(checking.model_validate(data))
        return plain(TypeAdapter(checking).validate_python(data, strict=True))
    except ValidationError as exc:
        key, message = _format_validation(exc)
        kind = ValueOutOfRange if exc.errors()[0]["type"] in OUT_OF_RANGE else KnowledgeError
        raise kind(message, file=str(path), key=key) from None


def _check_fiches(fiches: dict[int, Fiche], facts: dict[str, FactSpec], files: dict[int, str], folder: Path) -> None:
    missing = sorted(set(range(1, max(fiches) + 1)) - set(fiches))
    if missing or min(fiches) < 1:
        raise KnowledgeError(f"fiches must be numbered from 1 without gaps; missing {missing}", file=str(folder))
    for number, fiche in fiches.items():
        where = files[number]
        for fact in fiche.provides:
            if fact not in facts:
                raise KnowledgeError(f"provides an unknown fact '{fact}'", file=where, key="provides")
        if fiche.specs is not None and (fiche.specs not in facts or facts[fiche.specs].type != "bool"):
            raise KnowledgeError(f"'{fiche.specs}' is not a yes/no fact of facts.yaml", file=where, key="specs")
        if fiche.pair:
            for role, other in fiche.pair.items():
                back = "preparation" if role == "acquisition" else "acquisition"
                partner = fiches.get(other)
                if partner is None:
                    raise KnowledgeError(f"pair names fiche {other}, which does not exist", file=where, key="pair")
                if not partner.pair or partner.pair.get(back) != number:
                    raise KnowledgeError(f"pair {role}: {other} is not mirrored by fiche {other} ({back}: {number})",
                                         file=where, key="pair")
        if fiche.straddles and (not fiche.pair or fiche.pair.get("acquisition") != fiche.straddles.acquisition):
            raise KnowledgeError("straddles must name the fiche's own acquisition (pair.acquisition)",
                                 file=where, key="straddles.acquisition")
        budget = fiche.budget
        if fiche.type == "investment" and not (budget.by_size or budget.options):
            raise KnowledgeError("an investment fiche needs by_size or options", file=where, key="budget")
        if fiche.type == "coaching" and not (budget.days or budget.day_options):
            raise KnowledgeError("a coaching fiche needs days or day_options", file=where, key="budget")
        if fiche.alongside and (not fiche.pair or fiche.pair.get("acquisition") != fiche.alongside.acquisition):
            raise KnowledgeError("alongside must name the fiche's own acquisition (pair.acquisition)",
                                 file=where, key="alongside.acquisition")
        if budget.post_erp_days and not fiche.straddles:
            raise KnowledgeError("post_erp_days needs `straddles` (the part after the acquisition)",
                                 file=where, key="budget.post_erp_days")
        limit = budget.workstation_limit
        if limit and (limit.fact not in facts or facts[limit.fact].type != "int"):
            raise KnowledgeError(f"'{limit.fact}' is not a whole-number fact of facts.yaml",
                                 file=where, key="budget.workstation_limit.fact")


def _check_guide(guide: Guide, facts: dict[str, FactSpec], fiches: dict[int, Fiche], path: Path) -> None:
    codes = tuple(c.code for c in guide.size_classes.classes)
    if codes != SIZE_CODES:
        raise KnowledgeError(f"size classes must be {', '.join(SIZE_CODES)} in this order", file=str(path),
                             key="size_classes.classes")
    for goal, spec in guide.goals.items():
        for role, number in (("fiche", spec.fiche), ("preparation", spec.preparation)):
            if number is not None and number not in fiches:
                raise KnowledgeError(f"goal names fiche {number}, which does not exist", file=str(path),
                                     key=f"goals.{goal}.{role}")
    for rule in guide.implications:
        for part, mapping in (("if", rule.if_), ("then", rule.then)):
            if len(mapping) != 1:
                raise KnowledgeError("expected exactly one fact", file=str(path), key=f"implications.{rule.id}.{part}")
            for fact, value in mapping.items():
                if fact not in facts:
                    raise KnowledgeError(f"unknown fact '{fact}'", file=str(path), key=f"implications.{rule.id}.{part}")
                if facts[fact].type != "bool" or not isinstance(value, bool):
                    raise KnowledgeError("implications relate yes/no facts: expected true or false",
                                         file=str(path), key=f"implications.{rule.id}.{part}.{fact}")
    for fact, order in guide.provider_preference.items():
        for number in order:
            if number not in fiches or fact not in fiches[number].provides:
                raise KnowledgeError(f"fiche {number} does not provide '{fact}'", file=str(path),
                                     key=f"provider_preference.{fact}")


def _check_questions(questions: dict[str, QuestionSpec], facts: dict[str, FactSpec], path: Path) -> None:
    for key in facts:
        if key not in questions:
            raise KnowledgeError("no question for this profile fact", file=str(path), key=key)
    for key in questions:
        if key not in facts:
            raise KnowledgeError("a question for an unknown profile fact (expected a key of facts.yaml)",
                                 file=str(path), key=key)


def load(directory: Path | str = KNOWLEDGE_DIR) -> Knowledge:
    """Load and check the knowledge base in `directory`."""
    from .yamlio import read_knowledge_file     # not when a snapshot holds the knowledge
    directory = Path(directory)
    guide_path, facts_path = directory / "guide.yaml", directory / "facts.yaml"
    questions_path = directory / "questions.yaml"
    guide: Guide = _validated(Guide, read_knowledge_file(guide_path), guide_path)
    facts: dict[str, FactSpec] = _validated(dict[str, FactSpec], read_knowledge_file(facts_path), facts_path)
    questions: dict[str, QuestionSpec] = _validated(dict[str, QuestionSpec], read_knowledge_file(questions_path), questions_path)
    fiche_paths = sorted((directory / "fiches").glob("*.yaml"))
    if not fiche_paths:
        raise KnowledgeError("no fiche files (fiches/NN-*.yaml)", file=str(directory / "fiches"))
    fiches: dict[int, Fiche] = {}
    files: dict[int, str] = {}
    conditions: dict[int, tuple[Condition, ...]] = {}
    intents: dict[int, tuple[Citation, ...]] = {}
    for path in fiche_paths:
        fiche: Fiche = _validated(Fiche, read_knowledge_file(path), path)
        prefix = path.name.split("-", 1)[0]
        if not prefix.isdigit() or int(prefix) != fiche.fiche:
            raise KnowledgeError(f"file name must start with the fiche number {fiche.fiche:02d}", file=str(path), key="fiche")
        if fiche.fiche in fiches:
            raise KnowledgeError(f"fiche {fiche.fiche} is also defined in {files[fiche.fiche]}", file=str(path), key="fiche")
        fiches[fiche.fiche] = fiche
        files[fiche.fiche] = str(path)
        conditions[fiche.fiche], intents[fiche.fiche] = derive_conditions(fiche, guide, facts, str(path))
    fiches = dict(sorted(fiches.items()))
    _check_fiches(fiches, facts, files, directory / "fiches")
    _check_guide(guide, facts, fiches, guide_path)
    _check_questions(questions, facts, questions_path)
    graph = DependencyGraph(fiches, conditions, guide.provider_preference)
    version = version_of([guide_path, facts_path, *fiche_paths])
    return Knowledge(guide, facts, questions, fiches, conditions, intents, version, graph, files, directory)


GC_YOUNG_THRESHOLD = 10_000     # new objects between two looks for cycles (Python's default: 700)


@lru_cache(maxsize=1)
def default() -> Knowledge:
    """The knowledge base, loaded once per process: the shipped one, or the folder named by
    $PNMAN_KNOWLEDGE (a copy with a fiche added or a figure changed, for trying it out).

    A previous process's load is reused when nothing it was made from changed
    (knowledge/snapshot.py). Once loaded, everything the process holds so far is moved out
    of the garbage collector's sight (gc.freeze): the knowledge lives as long as the
    process, and the collector went through its objects again and again for nothing. And
    the collector looks for cycles every 10,000 new objects instead of every 700: an
    assessment makes a few thousand, almost none in cycles (garbage collection was 7.5 % of
    a record's CPU, with full collections of 30 ms; 3.6 % and none after)."""
    from .snapshot import load_kept
    kb = load_kept(Path(os.environ.get("PNMAN_KNOWLEDGE") or KNOWLEDGE_DIR), load, Knowledge)
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    return kb
