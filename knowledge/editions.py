"""Guide editions (contract §9): dated overlays of figures on the printed guide.

The printed guide is the edition `base`. An edition file, `knowledge/editions/<id>.yaml`
(or the folder named by $PNMAN_EDITIONS), gives its id, the date it comes into force,
the reference of the text that changed the figures, and only the figures it changes:
amounts of budget lines and printed totals by fiche number, size class and line;
coaching days and tolerances; priced options and day options; experts; workstation
limits. Each changed figure carries its own reference (default: the edition's).

`knowledge_for(edition_id)` is the Knowledge of an edition: the base one (loaded once,
`knowledge.default()`) with the edition's figures in place of the guide's, its own
`version`, its id in `edition`, and what it changed in `amendments`. An edition is
applied once per process and kept; the base path reads no edition file at all when the
folder holds none. `None` asks for the latest edition in force: the newest whose
date_in_force is today or earlier, else the base.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import weakref
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Iterable

from .errors import InputError, KnowledgeError, Phrase
from .figures import BY_SIZE, EXPERTS_COUNT, WORKSTATION_LIMIT, WORKSTATIONS, Amendment, Figure
from .loader import BASE_EDITION, Knowledge, _validated, default
from .model import SIZE_CODES, Budget, Fiche
from .yamlio import read_knowledge_file

TYPE_CHECKING = False
if TYPE_CHECKING:       # pydantic's models of an edition file: imported where a file is read
    from .edition_schema import EditionFile, FigureChange

EDITIONS_ENV = "PNMAN_EDITIONS"
EDITIONS_FOLDER = "editions"
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

# The figures of a change, by what they address; the address keys each group needs.
GROUPS = {
    "line": (("amount_da_ht",), ("size", "line")),
    "table": (("total_da_ht",), ("size",)),
    "days": (("days", "tolerance"), ("size",)),
    "option": (("min_da_ht", "max_da_ht"), ("option",)),
    "day_option": (("min_days", "max_days"), ("day_option",)),
    "experts": (("experts_count",), ()),
    "workstations": (("workstations",), ("size",)),
}
ADDRESSES = ("size", "line", "option", "day_option")
# The figures that are amounts (DA excl. tax); the others are counts (days, experts, workstations).
AMOUNTS = frozenset(("amount_da_ht", "total_da_ht", "min_da_ht", "max_da_ht"))


@dataclass(frozen=True)
class Edition:
    """One edition: the base (the printed guide, no file) or an overlay file."""
    id: str
    date_in_force: date | None          # None: the printed guide, undated
    reference: str | None               # None: the printed guide itself
    changes: tuple[FigureChange, ...] = ()
    extends: str | None = None
    note: str | None = None
    path: str | None = None
    digest: str = ""                    # sha256 of the file's bytes

    def as_dict(self) -> dict:
        return {"edition": self.id, "date_in_force": self.date_in_force.isoformat() if self.date_in_force else None,
                "reference": self.reference, "extends": self.extends if self.path else None,
                "note": self.note, "changes": len(self.changes), "file": self.path}


BASE = Edition(BASE_EDITION, None, None)


# -- the folder ------------------------------------------------------------------------------
def editions_dir(kb: Knowledge | None = None) -> Path | None:
    """$PNMAN_EDITIONS, else the knowledge folder's `editions/` (None when it does not exist)."""
    named = os.environ.get(EDITIONS_ENV)
    if named:
        folder = Path(named)
        if not folder.is_dir():
            raise KnowledgeError(Phrase("edition.no_folder"),
                                 file=named, key=EDITIONS_ENV)
        return folder
    folder = _root(kb).directory / EDITIONS_FOLDER
    return folder if folder.is_dir() else None


def _root(kb: Knowledge | None) -> Knowledge:
    kb = kb or default()
    return kb.base or kb


def _signature(folder: Path | None) -> tuple:
    if folder is None:
        return ()
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.endswith(".yaml") and not entry.name.startswith("."):
                st = entry.stat()
                found.append((entry.name, st.st_mtime_ns, st.st_size))
    return tuple(sorted(found))


_LISTINGS: dict[tuple, dict[str, Edition]] = {}


def available(kb: Knowledge | None = None) -> dict[str, Edition]:
    """Every edition, the base first, then by date in force: id -> Edition. Each file is read
    strictly (its schema, id, date and `extends`); what its changes address is checked when
    it is applied (`knowledge_for`), by `pnman validate` among them."""
    folder = editions_dir(kb)
    signature = _signature(folder)
    key = (str(folder), signature)
    found = _LISTINGS.get(key)
    if found is None:
        found = _list(folder, signature)
        if len(_LISTINGS) > 16:
            _LISTINGS.clear()
        _LISTINGS[key] = found
    return found


def _list(folder: Path | None, signature: tuple) -> dict[str, Edition]:
    editions = [read_edition(folder / name) for name, _, _ in signature]
    by_date: dict[date, Edition] = {}
    for edition in sorted(editions, key=lambda e: (e.date_in_force, e.id)):
        other = by_date.get(edition.date_in_force)
        if other is not None:
            raise KnowledgeError(Phrase("edition.same_date", date=edition.date_in_force.isoformat(), other=other.path),
                                 file=edition.path, key="date_in_force")
        by_date[edition.date_in_force] = edition
    found = {BASE_EDITION: BASE, **{e.id: e for e in sorted(editions, key=lambda e: (e.date_in_force, e.id))}}
    for edition in editions:
        if edition.extends is not None and edition.extends not in found:
            raise KnowledgeError(Phrase("edition.no_parent", parent=edition.extends, available=", ".join(found)),
                                 file=edition.path, key="extends")
        _lineage(edition, found)
    return found


def read_edition(path: Path) -> Edition:
    """One edition file, checked against the schema (edition_schema.EditionFile) and its name."""
    raw = path.read_bytes() if path.is_file() else b""
    from .edition_schema import EditionFile     # pydantic: only when an edition is read
    data: EditionFile = _validated(EditionFile, read_knowledge_file(path), path)
    where = str(path)
    if not ID_PATTERN.fullmatch(data.edition) or data.edition == BASE_EDITION:
        raise KnowledgeError(Phrase("edition.bad_id", base=BASE_EDITION, found=repr(data.edition)), file=where,
                             key="edition")
    if path.stem != data.edition:
        raise KnowledgeError(Phrase("edition.file_name", name=data.edition), file=where,
                             key="edition")
    if data.extends == data.edition:
        raise KnowledgeError(Phrase("edition.extends_itself"), file=where, key="extends")
    return Edition(data.edition, data.date_in_force, data.reference, tuple(data.changes),
                   None if data.extends in (None, BASE_EDITION) else data.extends, data.note, where,
                   hashlib.sha256(raw).hexdigest())


def _lineage(edition: Edition, found: dict[str, Edition]) -> list[Edition]:
    """The editions an edition is laid on, oldest first, ending with itself."""
    chain = [edition]
    while chain[-1].extends is not None:
        parent = found[chain[-1].extends]
        if parent in chain:
            raise KnowledgeError(Phrase("edition.circle", chain=" → ".join([*(e.id for e in chain), parent.id])),
                                 file=edition.path, key="extends")
        chain.append(parent)
    return chain[::-1]


# -- which edition ---------------------------------------------------------------------------
def latest_in_force(kb: Knowledge | None = None, today: date | None = None) -> str:
    """The newest edition whose date in force is `today` (default: today) or earlier; else the base."""
    today = today or date.today()
    latest = BASE_EDITION
    for edition in available(kb).values():
        if edition.date_in_force is not None and edition.date_in_force <= today:
            latest = edition.id
    return latest


def knowledge_for(edition_id: str | None = None, base: Knowledge | None = None, *,
                  today: date | None = None) -> Knowledge:
    """The Knowledge of an edition (None: the latest in force). `base` defaults to
    `knowledge.default()`; an edited Knowledge passed as `base` stands for its own base.
    An unknown id is an InputError listing the available ones (exit 2)."""
    root = _root(base)
    if edition_id is None:
        edition_id = latest_in_force(root, today)
    if edition_id == BASE_EDITION:
        return root
    found = available(root)
    edition = found.get(edition_id)
    if edition is None:
        raise InputError(Phrase("edition.unknown", edition=edition_id, available=", ".join(found)), key="--edition")
    chain = _lineage(edition, found)
    cache = _APPLIED.setdefault(root, {})
    key = tuple((e.id, e.path, e.digest) for e in chain)
    kb = cache.get(key)
    if kb is None:
        kb = apply(root, chain)
        cache[key] = kb
    return kb


_APPLIED: "weakref.WeakKeyDictionary[Knowledge, dict[tuple, Knowledge]]" = weakref.WeakKeyDictionary()


def describe(kb: Knowledge) -> dict:
    """The edition a Knowledge holds, as data: id, date in force, reference, changed figures."""
    if kb.edition == BASE_EDITION:
        edition = BASE
    else:
        edition = available(kb).get(kb.edition) or Edition(kb.edition, None, None)
    return dict(edition.as_dict(), amendments=[a.as_dict() for n in sorted(kb.amendments) for a in kb.amendments[n]])


# -- applying an edition ---------------------------------------------------------------------
def apply(base: Knowledge, chain: Iterable[Edition]) -> Knowledge:
    """The base Knowledge with the figures of `chain` (oldest first) in place of the guide's."""
    chain = list(chain)
    fiches = dict(base.fiches)
    amended: dict[int, dict[Figure, Amendment]] = {}
    digest = hashlib.sha256(base.version.encode())
    for edition in chain:
        digest.update(b"\0" + edition.id.encode() + b"\0" + edition.digest.encode())
        touched: dict[Figure, int] = {}
        for index, change in enumerate(edition.changes):
            where = _Where(edition, index)
            fiche = fiches.get(change.fiche)
            if fiche is None:
                raise where.error("fiche", Phrase("edition.no_fiche", fiche=change.fiche, count=len(fiches)))
            new, figures = _change(fiche, change, where)
            for figure, old, value in figures:
                if figure in touched:
                    raise where.error(figure.name, Phrase("edition.changed_twice", figure=figure.path, fiche=change.fiche,
                                                          index=touched[figure]))
                touched[figure] = index
                first = amended.setdefault(change.fiche, {}).get(figure)
                amended[change.fiche][figure] = Amendment(
                    change.fiche, figure, change.size, first.base if first else old, value, edition.id,
                    edition.date_in_force.isoformat(), change.reference or edition.reference)
            _check_ranges(new, where)
            fiches[change.fiche] = new
    amendments = {n: tuple(a for a in figures.values() if a.base != a.value)
                  for n, figures in sorted(amended.items())}
    return dataclasses.replace(base, fiches=fiches, version="kb-" + digest.hexdigest()[:16],
                               edition=chain[-1].id, amendments={n: a for n, a in amendments.items() if a},
                               base=base)


@dataclass(frozen=True)
class _Where:
    edition: Edition
    index: int

    def error(self, key: str, message: Phrase) -> KnowledgeError:
        return KnowledgeError(message, file=self.edition.path, key=f"changes[{self.index}].{key}")


def _group(change: FigureChange, where: _Where) -> str:
    from .edition_schema import FigureChange
    given = {name for name in FigureChange.model_fields
             if name not in ("fiche", "post_erp", "text", "reference", *ADDRESSES) and getattr(change, name) is not None}
    if not given:
        raise where.error("fiche", Phrase("edition.no_figure"))
    groups = [name for name, (figures, _) in GROUPS.items() if given & set(figures)]
    if len(groups) > 1:
        raise where.error(sorted(given)[0], Phrase("edition.one_item", given=", ".join(sorted(given))))
    group = groups[0]
    figures, needs = GROUPS[group]
    for address in needs:
        if getattr(change, address) is None:
            raise where.error(address, Phrase("edition.address_required", figures=" / ".join(figures)))
    for address in ADDRESSES:
        if address not in needs and getattr(change, address) is not None:
            raise where.error(address, Phrase("edition.address_unused", figures=" / ".join(sorted(given))))
    if change.post_erp and group != "days":
        raise where.error("post_erp", Phrase("edition.post_erp"))
    if change.text is not None and group not in ("days", "day_option", "workstations"):
        raise where.error("text", Phrase("edition.text"))
    for name in given:
        value = getattr(change, name)
        if value < (1 if name == "experts_count" else 0):
            raise where.error(name, Phrase("edition.at_least", min=1 if name == "experts_count" else 0, found=value))
    return group


def _pick(items: list, address: int | str, label: str, where: _Where, key: str, what: Phrase) -> int:
    """The index of the item an address names: its place from 1, or its label."""
    if isinstance(address, int):
        if 1 <= address <= len(items):
            return address - 1
        raise where.error(key, Phrase("edition.no_item_number", what=what, address=address, count=len(items)))
    names = [getattr(item, label) for item in items]
    if address in names:
        return names.index(address)
    raise where.error(key, Phrase("edition.no_item_name", what=what, address=address,
                                  names=", ".join(repr(n) for n in names)))


def _size_table(tables: dict | None, change: FigureChange, where: _Where, name: str) -> Any:
    if not tables:
        raise where.error("size", Phrase("edition.no_table", fiche=change.fiche, name=name))
    if change.size not in tables:
        raise where.error("size", Phrase("edition.no_size", fiche=change.fiche, size=change.size, name=name,
                                         printed=", ".join(s for s in SIZE_CODES if s in tables)))
    return tables[change.size]


# The budget's option lists an edition may change: (the list, the figures a change sets, what
# an error calls them, whether the figure carries the guide's sentence).
OPTION_GROUPS = {"option": ("options", ("min_da_ht", "max_da_ht"), "edition.kinds.options", False),
                 "day_option": ("day_options", ("min_days", "max_days"), "edition.kinds.day_options", True)}


def _change(fiche: Fiche, change: FigureChange, where: _Where) -> tuple[Fiche, list[tuple[Figure, Any, Any]]]:
    """The fiche with one change applied, and (figure, old value, new value) of each figure."""
    group = _group(change, where)
    b: Budget = fiche.budget
    reference = change.reference or where.edition.reference
    figures: list[tuple[Figure, Any, Any]] = []
    update: dict[str, Any] = {}
    if group in ("line", "table"):
        table = _size_table(b.by_size, change, where, "by_size")
        if group == "line":
            index = _pick(table.lines, change.line, "category", where, "line",
                          Phrase("edition.items.line", size=change.size))
            line = table.lines[index]
            lines = list(table.lines)
            lines[index] = line.model_copy(update={"amount_da_ht": change.amount_da_ht})
            figures.append((Figure(BY_SIZE, "amount_da_ht", change.size, index), line.amount_da_ht,
                            change.amount_da_ht))
            new_table = table.model_copy(update={"lines": lines})
        else:
            figures.append((Figure(BY_SIZE, "total_da_ht", change.size), table.total_da_ht, change.total_da_ht))
            new_table = table.model_copy(update={"total_da_ht": change.total_da_ht})
        update["by_size"] = {**b.by_size, change.size: new_table}
    elif group == "days":
        name = "post_erp_days" if change.post_erp else "days"
        tables = getattr(b, name)
        entry = _size_table(tables, change, where, name)
        values = {"days": change.days if change.days is not None else entry.days,
                  "tolerance": change.tolerance if change.tolerance is not None else entry.tolerance}
        for figure in ("days", "tolerance"):
            if getattr(change, figure) is not None:
                figures.append((Figure(name, figure, change.size), getattr(entry, figure), values[figure]))
        values["text"] = change.text or reference
        update[name] = {**tables, change.size: entry.model_copy(update=values)}
    elif group in OPTION_GROUPS:
        field, names, kind, with_text = OPTION_GROUPS[group]
        items = getattr(b, field)
        if not items:
            raise where.error(group, Phrase("edition.no_options", fiche=change.fiche, kind=Phrase(kind), field=field))
        index = _pick(items, getattr(change, group), "label", where, group, Phrase(f"edition.items.{group}"))
        option = items[index]
        values = {}
        for figure in names:
            if getattr(change, figure) is not None:
                values[figure] = getattr(change, figure)
                figures.append((Figure(field, figure, index=index), getattr(option, figure), values[figure]))
        if with_text:           # a day count is quoted with its sentence
            values["text"] = change.text or reference
        changed = list(items)
        changed[index] = option.model_copy(update=values)
        update[field] = changed
    elif group == "experts":
        if not b.per_expert:
            raise where.error("experts_count", Phrase("edition.not_per_expert", fiche=change.fiche))
        figures.append((Figure(EXPERTS_COUNT, EXPERTS_COUNT), b.experts_count, change.experts_count))
        update["experts_count"] = change.experts_count
    else:  # workstations
        limit = b.workstation_limit
        if limit is None:
            raise where.error("workstations", Phrase("edition.no_workstations", fiche=change.fiche))
        figures.append((Figure(WORKSTATION_LIMIT, WORKSTATIONS, change.size), getattr(limit, change.size),
                        change.workstations))
        update["workstation_limit"] = limit.model_copy(update={change.size: change.workstations,
                                                                "text": change.text or reference})
    return fiche.model_copy(update={"budget": b.model_copy(update=update)}), figures


def _check_ranges(fiche: Fiche, where: _Where) -> None:
    """What no edition can mean: a range upside down, a tolerance larger than its days."""
    b = fiche.budget
    for name in ("days", "post_erp_days"):
        for size, entry in (getattr(b, name) or {}).items():
            if entry.tolerance > entry.days:
                raise where.error("tolerance", Phrase("edition.tolerance", fiche=fiche.fiche, size=size,
                                                      tolerance=entry.tolerance, days=entry.days))
    for index, option in enumerate(b.options or []):
        if option.min_da_ht > option.max_da_ht:
            raise where.error("min_da_ht", Phrase("edition.option_range", fiche=fiche.fiche, n=index + 1,
                                                  min=option.min_da_ht, max=option.max_da_ht))
    for index, option in enumerate(b.day_options or []):
        if option.min_days > option.max_days:
            raise where.error("min_days", Phrase("edition.day_option_range", fiche=fiche.fiche, n=index + 1,
                                                 min=option.min_days, max=option.max_days))
