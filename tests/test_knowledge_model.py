"""The knowledge's plain values (knowledge/model.py) say what pydantic's models of the same
declarations say (knowledge/schema.py checks the files with them): the same fields, the
same dumps, frozen, copied with changes as pydantic copies."""
from __future__ import annotations

import pickle

import pytest

from pnman.knowledge import loader, model, schema
from pnman.knowledge.yamlio import read_knowledge_file

KB = loader.load()


def sources():
    directory = loader.KNOWLEDGE_DIR
    yield model.Guide, read_knowledge_file(directory / "guide.yaml"), KB.guide
    for path in sorted((directory / "fiches").glob("*.yaml")):
        data = read_knowledge_file(path)
        yield model.Fiche, data, KB.fiches[data["fiche"]]


@pytest.mark.parametrize("exclude_none", [False, True])
def test_every_value_dumps_as_pydantic_dumps_it(exclude_none):
    for cls, data, value in sources():
        checked = schema.twin_of(cls).model_validate(data)
        assert type(value) is cls
        assert value.model_dump(exclude_none=exclude_none) == checked.model_dump(exclude_none=exclude_none)
    facts = schema.twin_of(dict[str, model.FactSpec])
    assert set(schema.twin_of(model.FactSpec).model_fields) == set(model.FactSpec._fields)
    assert facts.__args__[1] is schema.twin_of(model.FactSpec)


def test_a_key_read_under_another_name():
    rule = KB.guide.implications[0]
    assert rule.premise == next(iter(rule.if_.items())) and "if" not in rule.__dict__
    assert schema.twin_of(model.Implication).model_fields["if_"].alias == "if"


def test_values_are_frozen_equal_by_content_and_copied_with_changes():
    fiche = KB.fiches[1]
    with pytest.raises(AttributeError):
        fiche.title = "autre"
    with pytest.raises(AttributeError):
        del fiche.title
    again = pickle.loads(pickle.dumps(fiche))
    assert again == fiche and again is not fiche and again.model_dump() == fiche.model_dump()
    changed = fiche.model_copy(update={"title": "autre"})
    assert changed.title == "autre" and fiche.title != "autre" and changed != fiche
    assert changed.budget is fiche.budget                 # a shallow copy, as pydantic's
    assert fiche != KB.fiches[2] and fiche != fiche.model_dump()


def test_a_default_is_never_shared_and_a_field_is_never_invented():
    first, second = model.Step(title="a"), model.Step(title="b")
    assert first.items == [] and first.items is not second.items
    with pytest.raises(TypeError, match="required"):
        model.Step()
    with pytest.raises(TypeError, match="no field"):
        model.Step(title="a", colour="red")
    assert model.Step(title="a") == model.Step(title="a", items=[])
