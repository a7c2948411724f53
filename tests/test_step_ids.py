"""A step id keeps its hash once computed (the planner hashes them by the million): it must
still be equal to, and hash like, any step id with the same fields, and never carry its hash
into another process, where strings hash otherwise."""
from __future__ import annotations

import pickle
import subprocess
import sys

from hypothesis import given, strategies as st

from pnman.engine.steps import StepId, StepKind

fiches = st.builds(StepId.of_fiche, st.integers(1, 27), st.sampled_from([None, "post_erp", "part1"]))
actions = st.builds(StepId.action, st.sampled_from(["website", "it_manager", "specs_erp"]), st.booleans())


@given(st.one_of(fiches, actions))
def test_equal_fields_mean_equal_ids_and_hashes(step):
    again = StepId(step.kind, step.fiche, step.part, step.fact, step.check)
    assert again == step and hash(again) == hash(step) and {step: 1}[again] == 1
    assert pickle.loads(pickle.dumps(step)) == step


def test_a_step_id_from_another_process_is_found_here():
    code = ("import pickle, sys\nfrom pnman.engine.steps import StepId\nstep = StepId.action('website')\n"
            "hash(step)\nsys.stdout.buffer.write(pickle.dumps(step))")
    data = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout
    received = pickle.loads(data)
    assert {StepId.action("website"): "here"}[received] == "here"
    assert received.kind is StepKind.COMPANY_ACTION
