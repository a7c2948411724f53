"""The interview's questions as data (knowledge/questions.yaml), in French and English."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from engine.errors import KnowledgeError
from engine.knowledge import KNOWLEDGE_DIR, Knowledge
from engine.yamlio import load_knowledge_yaml

KINDS = ("bool", "int", "goals", "fiches", "list", "text")


@dataclass(frozen=True)
class Question:
    key: str
    kind: str
    text: dict
    help: dict
    choices: dict          # code -> {fr, en}

    def prompt(self, lang: str) -> str:
        return self.text[lang]


@lru_cache(maxsize=1)
def _raw() -> dict:
    return load_knowledge_yaml(KNOWLEDGE_DIR / "questions.yaml")


def load_questions(kb: Knowledge) -> dict[str, Question]:
    """One question per profile fact; the help quotes the guide sentence that makes it matter."""
    raw = _raw()
    goal_labels = raw.get("goal_labels", {})
    questions = {}
    for key in kb.facts:
        spec = raw.get(key)
        if spec is None:
            raise KnowledgeError("no question for this profile fact", file=str(KNOWLEDGE_DIR / "questions.yaml"), key=key)
        if spec.get("kind") not in KINDS:
            raise KnowledgeError(f"kind must be one of {KINDS}", file=str(KNOWLEDGE_DIR / "questions.yaml"), key=key)
        help_text = dict(spec.get("help") or {})
        if not help_text:
            citation = _first_citation(kb, key)
            if citation:
                quote = f"« {citation.text} » (fiche {citation.fiche}, {citation.section})"
                help_text = {"fr": quote, "en": quote}
        choices = spec.get("choices") or (goal_labels if spec["kind"] == "goals" else {})
        questions[key] = Question(key, spec["kind"], {"fr": spec["fr"], "en": spec["en"]},
                                  help_text, choices)
    return questions


def _first_citation(kb: Knowledge, fact: str, fiches=None):
    order = list(fiches or []) + [n for n in kb.conditions if n not in (fiches or [])]
    for number in order:
        for condition in kb.conditions[number]:
            if fact in condition.facts:
                return condition.citation
    return None


def help_for(question: Question, kb: Knowledge, lang: str, fiches) -> str:
    """The help line: the question's own, or the guide sentence of a fiche in play that uses it."""
    if question.key in _raw() and (_raw()[question.key].get("help") or {}).get(lang):
        return question.help[lang]
    citation = _first_citation(kb, question.key, fiches)
    if citation is None:
        return ""
    return f"« {citation.text} » (fiche {citation.fiche}, {citation.section})"


def render_answer(question: Question, value: Any, lang: str) -> str:
    if value is None:
        return "je ne sais pas" if lang == "fr" else "I don't know"
    if question.kind == "bool":
        return ("oui" if value else "non") if lang == "fr" else ("yes" if value else "no")
    if question.kind in ("goals", "list"):
        return ", ".join(question.choices.get(v, {}).get(lang, v) for v in value) or "—"
    if question.kind == "fiches":
        return ", ".join(map(str, value)) or "—"
    return str(value)
