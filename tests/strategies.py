"""Hypothesis strategies for random profiles (valid ones, and hostile ones for fuzzing)."""
from __future__ import annotations

from hypothesis import strategies as st

from pnman import knowledge

KB = knowledge.default()
BOOL_KEYS = sorted(k for k, s in KB.facts.items() if s.type == "bool")
GOALS = sorted(KB.guide.goals)
RECOMMENDATIONS = KB.facts["recommendations"].choices

employees = st.one_of(st.sampled_from([0, 4, 5, 9, 10, 49, 50, 250, 251]), st.integers(0, 400))


@st.composite
def profiles(draw, complete: bool = False, max_goals: int = 3):
    """A valid profile; `complete` fills every boolean key (no unknowns)."""
    profile = {"employees": draw(employees)}
    for key in BOOL_KEYS:
        if complete:
            profile[key] = draw(st.booleans())
        else:
            value = draw(st.sampled_from([None, True, False]))
            if value is not None:
                profile[key] = value
    if complete or draw(st.booleans()):
        profile["recommendations"] = sorted(draw(st.sets(st.sampled_from(RECOMMENDATIONS))))
    if complete or draw(st.booleans()):
        profile["workstations_needed"] = draw(st.integers(0, 12))
    goals = draw(st.lists(st.sampled_from(GOALS), min_size=0, max_size=max_goals, unique=True))
    if goals:
        profile["goals"] = goals
    if draw(st.integers(0, 4)) == 0:
        profile["fiches"] = draw(st.lists(st.integers(1, len(KB.fiches)), max_size=2, unique=True))
    return profile
