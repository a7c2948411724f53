"""Replay a recorded assessment and tell what differs, and why.

Three different answers for an auditor:
- the record is intact (its decision digest matches its decisions and its record hash the
  whole file) or it was altered, and which of the two says so;
- the knowledge base is the same version or the rules changed since;
- recomputing from the recorded inputs gives the same decisions, or these differences
  (paths: `fiches[N]` is fiche N, `plan[K]` is step K).
"""
from __future__ import annotations

import hashlib

from typing import Any

from pnman.knowledge.editions import knowledge_for
from pnman.knowledge.errors import InputError, Phrase, ProfileError
from pnman.knowledge.loader import BASE_EDITION, Knowledge
from pnman.knowledge.profile import check_profile, read_document

from .facade import assess
from .record import SCHEMA, canonical_json, decision_content, decision_digest, record_hash

IGNORED_ON_REPLAY = ("knowledge_version",)


INT64 = range(-(2**63), 2**63)


def _check_numbers(value: Any, label: str, path: str = "") -> None:
    """JSON allows any integer; a record's digest is computed over 64-bit ones."""
    stack = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(node))
        elif isinstance(node, int) and node not in INT64:
            raise InputError(Phrase("audit.int64"), file=label, key=where)


def read_result(source: str) -> dict:
    """A result file written by `pnman assess --format json`, checked enough to be replayed:
    the schema, the recorded inputs and the recorded statuses; everything else is compared,
    never trusted."""
    data = read_document(source, what="result_file")
    label = "<stdin>" if source == "-" else source
    if not isinstance(data, dict):
        raise InputError(Phrase("audit.not_object"), file=label)
    if data.get("schema") != SCHEMA:
        raise InputError(Phrase("audit.schema", schema=SCHEMA), file=label, key="schema")
    for key, kind in (("profile", dict), ("fiches", list), ("plan", list), ("knowledge_version", str)):
        if not isinstance(data.get(key), kind):
            raise InputError(Phrase(f"audit.kinds.{kind.__name__}"), file=label, key=key)
    for index, entry in enumerate(data["fiches"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("fiche"), int) or not isinstance(entry.get("status"), str):
            raise InputError(Phrase("audit.fiche_entry"), file=label, key=f"fiches[{index}]")
    _check_numbers(data, label)
    data["_source"] = label
    return data


def _key_for(path: str, index: int, item: Any, name: str | None) -> str:
    """An item's path: `fiches[N]` and `plan[K]` by their fiche and step, else its index
    (`name`: the key of the list in its parent, as diff walked it)."""
    if isinstance(item, dict):
        if name == "fiches" and "fiche" in item:
            return f"{path}[{item['fiche']}]"
        if name == "plan" and "step" in item:
            return f"{path}[{item['step']}]"
    return f"{path}[{index}]"


def diff(recorded: Any, recomputed: Any, path: str = "", name: str | None = None) -> list[dict]:
    """Every difference between two JSON-like values, by path (`name`: the key of this value
    in its parent mapping)."""
    if isinstance(recorded, dict) and isinstance(recomputed, dict):
        out = []
        for key in list(recorded) + [k for k in recomputed if k not in recorded]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in recomputed:
                out.append({"path": sub, "recorded": recorded[key], "recomputed": None, "note": "only in the record"})
            elif key not in recorded:
                out.append({"path": sub, "recorded": None, "recomputed": recomputed[key], "note": "missing from the record"})
            else:
                out.extend(diff(recorded[key], recomputed[key], sub, key))
        return out
    if isinstance(recorded, list) and isinstance(recomputed, list):
        out = []
        for index in range(max(len(recorded), len(recomputed))):
            if index >= len(recorded):
                out.append({"path": _key_for(path, index, recomputed[index], name), "recorded": None,
                            "recomputed": recomputed[index], "note": "missing from the record"})
            elif index >= len(recomputed):
                out.append({"path": _key_for(path, index, recorded[index], name), "recorded": recorded[index],
                            "recomputed": None, "note": "only in the record"})
            else:
                out.extend(diff(recorded[index], recomputed[index], _key_for(path, index, recorded[index], name)))
        return out
    if recorded != recomputed or type(recorded) is not type(recomputed):
        return [{"path": path, "recorded": recorded, "recomputed": recomputed}]
    return []


def record_knowledge(record: dict, kb: Knowledge) -> Knowledge:
    """The Knowledge of the guide edition a record names; a record without one (made before
    editions existed) was decided by the printed guide, the base edition."""
    edition = record.get("edition", BASE_EDITION)
    source = record.get("_source", "<result>")
    if not isinstance(edition, str):
        raise InputError(Phrase("audit.edition_id"), file=source, key="edition")
    try:
        return knowledge_for(edition, kb)
    except InputError as exc:
        raise InputError(Phrase("audit.made_under", detail=exc.phrase or exc.detail), file=source, key="edition") from None


def _hash_with_registry(record: dict) -> str | None:
    """The record hash as it was computed before the registry block was left out of it (records
    appended to a registry of schema 1 were sealed again with the block inside)."""
    if "registry" not in record:
        return None
    content = {k: v for k, v in record.items() if k not in ("record_hash", "_source")}
    return "sha256:" + hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def audit(result: dict, kb: Knowledge) -> dict:
    """Replay a record under its own edition of the guide (`kb` or any edition of its base)."""
    kb = record_knowledge(result, kb)
    record = {k: v for k, v in result.items() if k != "_source"}
    source = result.get("_source", "<result>")
    recorded_digest = record.get("decision_digest")
    digest_ok = recorded_digest == decision_digest(record)
    recorded_hash = record.get("record_hash")
    hash_ok = recorded_hash is None or recorded_hash in (record_hash(record), _hash_with_registry(record))
    intact = digest_ok and hash_ok
    same_knowledge = record.get("knowledge_version") == kb.version
    try:
        profile = check_profile(record["profile"], kb, file=f"{source} (profile)")
    except ProfileError as exc:
        raise InputError(Phrase("audit.inputs", detail=exc.phrase or exc.detail), file=source,
                         key=f"profile.{exc.key}" if exc.key else "profile") from None
    replay = assess(profile, kb).record(timestamp=record.get("timestamp"))
    recorded_decisions = {k: v for k, v in decision_content(record).items() if k not in IGNORED_ON_REPLAY}
    replayed_decisions = {k: v for k, v in decision_content(replay).items() if k not in IGNORED_ON_REPLAY}
    if "edition" not in record:         # a record made before editions: the base, which it does not name
        replayed_decisions.pop("edition", None)
    differences = diff(recorded_decisions, replayed_decisions)
    if not intact:
        verdict = "altered"           # the content no longer matches its own digest or hash
    elif not same_knowledge:          # replayed under other rules: it cannot vouch for the record
        verdict = "rules_changed" if differences else "other_knowledge"
    elif differences:
        verdict = "mismatch"
    else:
        verdict = "match"
    return {
        "match": verdict == "match",
        "verdict": verdict,
        "record_intact": intact,
        "decision_digest": {"recorded": recorded_digest, "recomputed_from_record": decision_digest(record),
                            "replayed": replay["decision_digest"], "ok": digest_ok},
        "record_hash": {"recorded": recorded_hash, "recomputed_from_record": record_hash(record),
                        "ok": hash_ok, "present": recorded_hash is not None},
        "knowledge_version": {"recorded": record.get("knowledge_version"), "current": kb.version,
                              "same": same_knowledge},
        "edition": {"recorded": record.get("edition"), "replayed_under": kb.edition},
        "differences": differences,
        "timestamp": record.get("timestamp"),
    }
