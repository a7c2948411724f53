"""Checking a knowledge file against knowledge/model.py's declarations, with pydantic.

Each plain class of model.py gets a pydantic twin of the same name and fields (strict,
unknown keys refused, frozen), made here on first use from the class's own annotations
and defaults: the declarations stay in one place, and only a process that reads YAML
imports pydantic. What a twin validates is turned back into the plain values the rest of
pnman uses (`plain`).
"""
from __future__ import annotations

import sys
import types
import typing
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from .model import MODELS

CONFIG = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


@lru_cache(maxsize=1)
def _twins() -> dict[type, type[BaseModel]]:
    """Every model class's twin, its annotations resolved among the twins (a module of
    their own, as pydantic resolves a model's annotations in its module)."""
    namespace = types.ModuleType(f"{__name__}_twins")
    declared = vars(sys.modules[MODELS[0].__module__])       # model.py's names: Optional, SizeCode…
    namespace.__dict__.update({name: value for name, value in declared.items() if not name.startswith("__")})
    sys.modules[namespace.__name__] = namespace
    twins: dict[type, type[BaseModel]] = {}
    for cls in MODELS:
        fields: dict[str, Any] = {}
        for name in cls._fields:
            annotation = cls.__annotations__[name]
            if name in cls._keys:
                fields[name] = (annotation, Field(alias=cls._keys[name]))
            elif name in cls._defaults:
                fields[name] = (annotation, cls._defaults[name])
            else:
                fields[name] = (annotation, ...)
        twin = create_model(cls.__name__, __config__=CONFIG, __module__=namespace.__name__, **fields)
        twin.__doc__ = cls.__doc__
        twins[cls] = twin
        setattr(namespace, cls.__name__, twin)
    for twin in twins.values():
        twin.model_rebuild(force=True, _types_namespace=namespace.__dict__)
    return twins


def twin_of(schema: Any) -> Any:
    """The pydantic type that checks a file meant to hold `schema`: a model class, or a
    list or mapping of them (`dict[str, FactSpec]`); another type as it is."""
    twins = _twins()
    if isinstance(schema, type) and schema in twins:
        return twins[schema]
    origin, arguments = typing.get_origin(schema), typing.get_args(schema)
    if origin in (dict, list):
        return origin[tuple(twin_of(argument) for argument in arguments)]
    return schema


@lru_cache(maxsize=1)
def _plain_classes() -> dict[type, type]:
    return {twin: cls for cls, twin in _twins().items()}


def plain(value: Any) -> Any:
    """A validated value with each twin instance turned into its plain class's."""
    cls = _plain_classes().get(type(value))
    if cls is not None:
        return cls(**{name: plain(getattr(value, name)) for name in cls._fields})
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value
