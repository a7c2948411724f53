"""The interview as a state machine without a user interface: one loop, many faces.

The terminal (questionary), the headless runner and the web API all drive the same
`Interview`: `next()` says what to ask as data (a `Step`), `answer()` and `back()` move
the session, `review()` lists what was answered, `finish()` gives the record. Which
question comes next is the engine's decision (engine.questioning); this module adds
the words of the chosen language and keeps the session consistent: an answer is
checked before anything changes, and the session is saved after every change.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from pnman.engine.planner import requested_fiches
from pnman.engine.questioning import Outcome, assessment, next_question, outcome, pending_estimate
from pnman.knowledge.errors import Phrase, ProfileError
from pnman.knowledge.loader import Knowledge
from pnman.knowledge.profile import check_value, normalise_value

from ..render.l10n import Words, localise

# Our answer kinds (knowledge/questions.yaml) as the web API names them (contract §7).
API_KINDS = {"bool": "bool", "int": "int", "goals": "multi", "list": "multi", "fiches": "multi", "text": "text"}
WHERE = "<interview>"      # how an error names the source of a refused answer
REQUEST = ("goals", "fiches")   # what the company asks for: by goals, or by fiches the diagnostic names


class State(Protocol):
    """What the interview keeps between steps: a session file, or memory alone."""
    lang: str
    answers: dict[str, Any]      # what is known; « je ne sais pas » leaves the key out
    asked: list[str]             # every key answered, in order, « je ne sais pas » included
    status: str

    def save(self) -> None: ...


@dataclass
class MemoryState:
    """A state that lives as long as the object (headless runs, tests)."""
    lang: str = "fr"
    answers: dict[str, Any] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    status: str = "in_progress"

    def save(self) -> None:
        """Nothing to store."""


@dataclass(frozen=True)
class Step:
    """One question as data, ready for any face (a prompt, a web form, a transcript).

    `kind` is the web API's (bool, int, choice, multi; text for the company name) and
    `input` ours (bool, int, goals, fiches, list, text): a face that types fiche numbers
    rather than ticking them needs to know. `default` is what to preselect: an earlier
    answer, else the value other answers imply, with the rule that implies it in
    `implied_by` (offered, never assumed: only the answer given counts). `at_least_one`:
    an empty list is refused here (an interactive interview's request, see `Interview`).
    """
    key: str
    text: str
    help: str
    kind: str
    input: str
    choices: tuple[dict, ...]
    default: Any
    implied_by: str | None
    min: int | None
    max: int | None
    required: bool
    progress: dict
    at_least_one: bool = False
    help_citation: dict | None = None     # the guide's sentence `help` words, when it is one (a page isolates its French)

    def as_dict(self) -> dict:
        """JSON-ready: the contract's QUESTION object (§7) and our extra fields; copies, so
        that what the caller changes is not the step's (dataclasses.asdict's deep copy of
        every fiche's choice was a tenth of an answer's work)."""
        found = {name: getattr(self, name) for name in _STEP_FIELDS}
        found.update(choices=[dict(c) for c in self.choices], progress=dict(self.progress),
                     default=copy.deepcopy(self.default), help_citation=copy.deepcopy(self.help_citation))
        return found


_STEP_FIELDS = tuple(f.name for f in fields(Step))
_STALE = object()


class Interview:
    """One interview over a session. Not thread-safe: one writer per session (the lock).

    `require_request`: the company must ask for something — at least one goal, or the
    fiches its diagnostic names. An interview a person answers (the terminal, a web form)
    sets it: ticking no goal there is nearly always a slip (Space not pressed), and the
    interview would end at once with an empty plan. Then an empty goal list is refused
    unless fiches are named, and the fiches may be answered before the goals to say so
    (« no goal: the diagnostic names fiches »). The headless run and the JSON API leave it
    off: answering every question from a complete profile must give what `pnman assess`
    gives for it (contract §6, §7), a profile that asks for nothing included.
    """

    def __init__(self, kb: Knowledge, words: Words, state: State, *, require_request: bool = False):
        self.kb = kb
        self.words = words
        self.state = state
        self.require_request = require_request
        # Answers taken back, offered again as defaults; a state that stores them (the web's)
        # keeps them across requests and restarts.
        undone = getattr(state, "undone", None)
        self._undone: dict[str, Any] = undone if isinstance(undone, dict) else {}
        self._next: Any = _STALE            # the pending step, until the answers change

    # -- asking ----------------------------------------------------------------------------
    def next(self) -> Step | None:
        """The question to ask now, or None when no answer can change the outcome any more."""
        if self._next is _STALE:
            # One evaluation per step, shared by the choice, the progress and the default.
            current = outcome(self.state.answers, self.kb)
            key = next_question(self.state.answers, self.kb, asked=set(self.state.asked), current=current)
            self._next = None if key is None else self._step(key, current)
        return self._next

    def question(self, key: str) -> Step:
        """Any question as a step, e.g. to change an answer from the review."""
        self._known(key)
        return self._step(key, outcome(self.state.answers, self.kb))

    def _step(self, key: str, current: Outcome) -> Step:
        spec, question, w = self.kb.facts[key], self.kb.questions[key], self.words
        answers = self.state.answers
        default = answers.get(key, self._undone.get(key))
        implied_by = None
        implied = current.evaluation.facts.get(key)
        if default is None and implied is not None and implied.source != "profile":
            default, implied_by = implied.value, implied.source
        number = sum(1 for k in self.state.asked if self.kb.facts[k].role != "identity") + 1
        total = max(number, number - 1 + pending_estimate(answers, self.kb, current))
        help_citation = self._help_citation(key)
        return Step(key=key, text=w(f"questions.{key}.text"),
                    help=w.citation(help_citation) if help_citation else self._help(key), help_citation=help_citation,
                    kind=API_KINDS[question.kind], input=question.kind, choices=self._choices(key),
                    default=default, implied_by=implied_by,
                    min=spec.min if spec.type == "int" else None, max=spec.max if spec.type == "int" else None,
                    required=question.required, progress={"n": number, "total": total},
                    at_least_one=self._needs_one(key, answers))

    def _needs_one(self, key: str, answers: dict) -> bool:
        """Whether an empty answer to `key` would leave the request empty (require_request)."""
        if not self.require_request or key not in REQUEST:
            return False
        other = REQUEST[1 - REQUEST.index(key)]
        return not answers.get(other)

    def _choices(self, key: str) -> tuple[dict, ...]:
        kind, w = self.kb.questions[key].kind, self.words
        if kind == "bool":
            return ({"value": True, "label": w("prompts.yes")}, {"value": False, "label": w("prompts.no")})
        if kind == "goals":
            return tuple({"value": code, "label": w.goal(code)} for code in self.kb.guide.goals)
        if kind == "list":
            return tuple({"value": code, "label": w.cat.get(f"choices.{key}.{code}", code)}
                         for code in self.kb.facts[key].choices)
        if kind == "fiches":   # our short titles, in the reader's language
            return tuple({"value": n, "label": f"{n} – {w.fiche_title(n)}"}
                         for n, fiche in self.kb.fiches.items())
        return ()

    def _help(self, key: str) -> str:
        """The question's own help (the guide's sentence is `_help_citation`)."""
        return self.words.cat.get(f"questions.{key}.help") or ""

    def _help_citation(self, key: str) -> dict | None:
        """Without help of its own, the guide's sentence that makes the question matter: from
        a requested fiche when one cites the fact, else from the first fiche that does."""
        if self.words.cat.get(f"questions.{key}.help"):
            return None
        requested = [n for n, _ in requested_fiches(self.state.answers, self.kb)]
        for number in requested + [n for n in self.kb.conditions if n not in requested]:
            for condition in self.kb.conditions[number]:
                if key in condition.facts:
                    return condition.citation.as_dict()
        return None

    # -- answering -------------------------------------------------------------------------
    def answer(self, key: str, value: Any) -> None:
        """Record one answer (None: « je ne sais pas », the key stays unknown) and save.

        Accepted: the question asked now, a question already answered (changed from the
        review), or the company's identity (the name) at any time; with `require_request`,
        the fiches while the goals are asked (to name fiches instead of goals). Anything
        else would let a face skip the questioning, so it is refused; a refused or invalid
        answer raises ProfileError and changes nothing.
        """
        self._known(key)
        if not self.can_answer(key):
            pending = self.next()
            message = Phrase("interview.not_asked", pending=pending.key) if pending else Phrase("interview.nothing_left")
            raise ProfileError(message, file=WHERE, key=key)
        if value is None and self.kb.questions[key].required:
            raise ProfileError(Phrase("interview.required"), file=WHERE, key=key)
        check_value(key, value, self.kb, file=WHERE)
        value = normalise_value(key, value, self.kb)
        if not value and self._needs_one(key, self.state.answers):
            raise ProfileError(Phrase("interview.goals"), file=WHERE, key=key)
        if value is None:
            self.state.answers.pop(key, None)
        else:
            self.state.answers[key] = value
        if key not in self.state.asked:
            self.state.asked.append(key)
        self._undone.pop(key, None)
        self._changed()

    def can_answer(self, key: str) -> bool:
        """Whether `answer(key, …)` may be called now (see `answer`): a face that shows an old
        question (a browser's back button) asks before it answers."""
        if self.kb.facts[key].role == "identity" or key in self.state.asked:
            return True
        pending = self.next()
        if pending is not None and pending.key == key:
            return True
        return self.require_request and key in REQUEST and pending is not None and pending.key in REQUEST

    def back(self) -> Step | None:
        """Take back the last question asked and return the step to ask now (that question
        again, its old answer as the default); None when there is nothing to take back.
        The company name is not part of the questioning: going back never removes it."""
        questions = [k for k in self.state.asked if self.kb.facts[k].role != "identity"]
        if not questions:
            return None
        key = questions[-1]
        self.state.asked.remove(key)
        self._undone[key] = self.state.answers.pop(key, None)
        self._changed()
        return self.next()

    def _changed(self) -> None:
        self._next = _STALE
        self.state.save()

    def _known(self, key: str) -> None:
        if key not in self.kb.facts:
            check_value(key, None, self.kb, file=WHERE)   # raises, with a « did you mean »

    # -- ending ----------------------------------------------------------------------------
    def review(self) -> list[dict]:
        """Every answer given, in the order asked, in words (to check or change one)."""
        w, answers = self.words, self.state.answers
        return [{"key": key, "question": w(f"questions.{key}.text"), "value": answers.get(key),
                 "answer": w.answer(self.kb.questions[key].kind, answers.get(key), key)}
                for key in self.state.asked]

    def finish(self) -> dict:
        """The localised record (contract §4) of the answers; the session is marked completed.
        Faces call it once `next()` is None: then the record's outcome is the one the full
        profile would give (contract §6 soundness)."""
        record = localise(assessment(self.state.answers, self.kb).record(), self.words)
        self.state.status = "completed"
        self.state.save()
        return record
