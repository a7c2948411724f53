"""The interview without a terminal: each question it decides to ask is answered from a profile.

Runs exactly the question-selection logic of the interactive interview
(engine/questioning.py); a question whose key is absent from the profile is answered
"je ne sais pas" (the key stays unknown).
"""
from __future__ import annotations

from typing import Any, Mapping

from engine.assess import assess
from engine.knowledge import Knowledge
from engine.questioning import next_question

from .questions import load_questions


def run_headless(profile: Mapping[str, Any], kb: Knowledge, lang: str = "fr") -> dict:
    questions = load_questions(kb)
    answers: dict[str, Any] = {}
    asked: list[dict] = []
    asked_keys: set[str] = set()
    while True:
        key = next_question(answers, kb, asked=asked_keys)
        if key is None:
            break
        value = profile.get(key)
        asked_keys.add(key)
        asked.append({"key": key, "question": questions[key].prompt(lang), "answer": value})
        if value is not None:
            answers[key] = value
    if profile.get("name") is not None:
        answers = {"name": profile["name"], **answers}   # shown in reports, decides nothing
    return {"asked": asked, "result": assess(answers, kb, lang=lang)}
