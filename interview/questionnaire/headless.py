"""The interview without a terminal: each question it decides to ask is answered from a profile.

The same `Interview` as the terminal and the web drives it, so the questions asked are
exactly theirs; a question whose key is absent from the profile is answered « je ne sais
pas » (the key stays unknown). The company name decides nothing and is never asked: it
is copied from the profile so that the reports show it.
"""
from __future__ import annotations

from typing import Any, Mapping

from pnman.knowledge.loader import Knowledge

from ..render.l10n import Words
from .machine import Interview, MemoryState


def run_headless(profile: Mapping[str, Any], kb: Knowledge, words: Words) -> dict:
    """The transcript (contract §6): the questions asked, in order, and the localised record."""
    interview = Interview(kb, words, MemoryState(lang=words.lang))
    if profile.get("name") is not None:
        interview.answer("name", profile["name"])
    asked: list[dict] = []
    while (step := interview.next()) is not None:
        value = profile.get(step.key)
        asked.append({"key": step.key, "question": step.text, "answer": value})
        interview.answer(step.key, value)
    return {"asked": asked, "result": interview.finish()}
