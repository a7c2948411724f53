"""`pnman registry list|show|verify|export`, `pnman override`, and `--record` for the faces
that make records (assess, interview, batch): read arguments, call pnman.records,
render in the catalogue's words (`registry.*`, `override.*`)."""
from __future__ import annotations

import sys
from typing import Any

from pnman.knowledge import default as default_kb

from ..files import is_stdout, to_json, write_atomic
from ..recording import record_store, save  # noqa: F401 (the faces' --record)
from ..render.l10n import Words, localise
from ..render.registry import (SHOWN, override_rows, reason_words, replanned_with_overrides, show_html,  # noqa: F401
                               show_markdown, show_text, when, short_hash, fiche_label, verify_lines)
from ..render.safe import plain
from .output import emit

# -- --record, for the faces that make records -----------------------------------------------------


def batch_store(args):
    """`pnman batch --record`: the store, checked before any row (None without --record). The
    main process closes it again: the workers are forked after, and each opens its own."""
    store = record_store(args)
    if getattr(store, "path", None) is None:
        return None
    from pnman.records.registry import Registry
    Registry(store.path).close()    # a missing folder, a foreign or newer file: said before any row
    store.durable = False           # many appends: not one disk flush each (a power cut may lose the last ones)
    return store


def batch_recorded(store, w: Words) -> str | None:
    """The line a batch with --record ends with: the registry, its size and its head now."""
    if store is None:
        return None
    from pnman.records.registry import Registry
    with Registry(store.path) as registry:
        if not registry.exists():       # no row was recorded: nothing was created
            return w("registry.batch_recorded", path=store.path, count=0, head=w("registry.none"))
        return w("registry.batch_recorded", path=store.path, count=registry.count(), head=registry.head())


# -- shared ----------------------------------------------------------------------------------------

def _open(args, create: bool = False):
    from pnman.records.registry import Registry
    return Registry.open(getattr(args, "registry", None), create=create)


# -- pnman registry ----------------------------------------------------------------------------------

def cmd_registry(args) -> int:
    action = {"list": _list, "show": _show, "verify": _verify, "export": _export,
              "checkpoint": _checkpoint, "index": _index}[args.action]
    return action(args)


def _list(args) -> int:
    from pnman.records.registry import parse_when
    w = Words(args.lang, default_kb())
    since = parse_when(args.since, key="--since") if args.since else None
    until = parse_when(args.until, end=True, key="--until") if args.until else None
    with _open(args) as registry:
        entries = registry.list(name=args.name, size_class=args.size, fiche=args.fiche, since=since, until=until)
        summary = registry.override_summary(entries) if args.summary else None
        total, head = registry.count(), registry.head()
    if args.format == "json":
        data: Any = [e.as_dict() for e in entries]
        if summary is not None:
            data = {"entries": data, "summary": summary.as_dict()}
        emit(to_json(data), None)
        return 0
    from rich import box
    from rich.table import Table

    from ..render.text import capture

    def render(con):
        con.print(w("registry.list.heading", path=registry.path, count=len(entries), entries=total,
                    head=short_hash(head, w)))
        if not entries:
            con.print(w("registry.list.empty"))
        else:
            table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
            for key in ("id", "time", "company", "size", "plan", "overrides"):
                table.add_column(w(f"registry.list.{key}"), no_wrap=key in ("id", "time", "size"),
                                 justify="right" if key == "overrides" else "left",
                                 ratio=1 if key in ("company", "plan") else None)
            for e in entries:
                table.add_row(e.id, when(e.created_at)[:16], plain(e.name or "—"), e.size_class or "—",
                              w.join(e.plan) or "—", str(e.overrides) if e.overrides else "—")
            con.print(table)
        if summary is not None:
            con.print()
            _summary_lines(con, summary, w)
    emit(capture(render), None)
    return 0


def _summary_lines(con, summary, w: Words) -> None:
    """The override summary (records.overrides.OverrideSummary) in words, read field by field."""
    if not summary.fiches:
        con.print(w("registry.summary.none", count=summary.assessments))
        return
    con.print(w("registry.summary.heading", count=summary.assessments))
    for item in summary.fiches:
        changes = w.join(w("registry.summary.change", engine=w.status(engine), override=w.status(status), count=count)
                         for engine, status, count in item.changes)
        reasons = w.join(w("registry.summary.count", what=reason_words(w, code), count=count)
                         for code, count in item.reasons)
        con.print("  " + w("registry.summary.fiche", fiche=item.fiche, title=fiche_label(w, item.fiche),
                           overridden=item.overridden, count=summary.assessments,
                           rate=w("registry.summary.rate", percent=round(100 * item.rate)),
                           changes=changes, reasons=reasons))


def _verify(args) -> int:
    w = Words(args.lang, default_kb())
    public_key = None
    if args.pub:
        from pnman.records.checkpoints import load_public
        public_key = load_public(args.pub)
    with _open(args) as registry:
        report = registry.verify()
        signed, problem = registry.check_checkpoints(public_key) if public_key is not None else (None, None)
        unsigned = registry.checkpoints() if public_key is None else None
        head_held = registry.holds_hash(args.head) if args.head else None
    ok = report.ok and problem is None and head_held is not False
    if args.format == "json":
        data = report.as_dict()
        data["path"] = str(registry.path)
        if public_key is not None:
            data["checkpoints"] = {"checked": [c.as_dict() for c in signed],
                                   "first_broken": problem.as_dict() if problem else None}
        else:
            data["checkpoints"] = {"unchecked": len(unsigned)}
        if args.head:
            data["head_given"] = {"hash": args.head, "in_chain": head_held}
        data["ok"] = ok
        emit(to_json(data), None)
        return 0 if ok else 1
    lines = verify_lines(report, registry.path, w)
    if public_key is not None:
        if problem is None:
            last = signed[-1]
            lines.append(w("registry.verify.checkpoints_ok", count=len(signed), entry=last.id, covered=last.count,
                           at=when(last.at)))
        elif problem.code == "none":
            lines.append(w("registry.verify.checkpoint_problems.none"))
        else:
            lines.append(w("registry.verify.checkpoint_broken", entry=problem.id, seq=problem.seq,
                           problem=w(f"registry.verify.checkpoint_problems.{problem.code}", detail=problem.detail)))
    elif unsigned:
        lines.append(w("registry.verify.checkpoints_unchecked", count=len(unsigned)))
    if args.head:
        lines.append(w("registry.verify.head_held" if head_held else "registry.verify.head_missing",
                       head=plain(args.head)))
    emit("\n".join(lines) + "\n", None)
    return 0 if ok else 1


def _checkpoint(args) -> int:
    from pnman.records.checkpoints import load_private
    w = Words(args.lang, default_kb())
    key = load_private(args.key)
    with _open(args) as registry:
        entry = registry.add_checkpoint(key)
    data = dict(entry.payload, id=entry.id, seq=entry.seq, hash=entry.hash)
    if args.format == "json":
        emit(to_json(data), None)
        return 0
    emit(w("registry.checkpoint.recorded", entry=entry.id, count=data["count"], head=data["head"],
           hash=entry.hash, fingerprint=data["key"]) + "\n", None)
    return 0


def build_index(registry, w: Words, *, rebuild: bool = False, out=None) -> int:
    """The dashboard's index brought to the head, its progress on `out` (stderr): a line each
    few seconds, and the last one. Returns the entries indexed."""
    import time
    out = out or sys.stderr
    shown = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - shown[0] >= 2 or done == total:
            shown[0] = now
            print(w("registry.index.progress", done=w.number(done), total=w.number(total), path=registry.path),
                  file=out, flush=True)
    return registry.build_index(progress, rebuild=rebuild)


def _index(args) -> int:
    w = Words(args.lang, default_kb())
    with _open(args) as registry:
        done = build_index(registry, w, rebuild=args.rebuild)
        print(w("registry.index.done", count=done, n=w.number(done), path=registry.path))
    return 0


def cmd_keys(args) -> int:
    from pnman.records.checkpoints import new_keys
    w = Words(args.lang, default_kb())
    private, public, fingerprint = new_keys(args.output)
    print(w("registry.keys.written", private=private, public=public, fingerprint=fingerprint))
    return 0


def _export(args) -> int:
    w = Words(args.lang, default_kb())
    with _open(args) as registry:
        if args.output and not is_stdout(args.output):
            counted = []

            def lines():
                for line in registry.iter_export():
                    counted.append(1)
                    yield line
            write_atomic(args.output, lines())
            print(w("registry.export.written", count=len(counted), path=args.output), file=sys.stderr)
            return 0
        out = getattr(sys.stdout, "buffer", None)
        for line in registry.iter_export():
            if out is not None:
                out.write(line)
            else:
                sys.stdout.write(line.decode("utf-8"))
        sys.stdout.flush()
    return 0


# -- pnman registry show -------------------------------------------------------------------------------

def _show(args) -> int:
    from pnman.knowledge.locales import available_languages
    with _open(args) as registry:
        shown = registry.show(args.id)
    kb = default_kb()
    lang = args.lang or (shown.record.get("lang") if shown.record.get("lang") in available_languages() else None)
    w = Words(lang or available_languages()[0], kb)
    effective = shown.effective()
    replanned = replanned_with_overrides(shown, effective, w) if effective else None
    if args.format == "json":
        data = shown.as_dict()
        data["with_overrides"] = replanned
        emit(to_json(data), args.output)
        return 0
    record = shown.record if shown.record.get("lang") == w.lang else localise(shown.record, w)
    emit(SHOWN[args.format](shown, record, replanned, w), args.output)
    return 0


# -- pnman override ----------------------------------------------------------------------------------

def cmd_override(args) -> int:
    from pnman.knowledge.overrides import override_reasons
    kb = default_kb()
    w = Words(args.lang, kb)
    with _open(args) as registry:
        override = registry.add_override(args.id, fiche=args.fiche, status=args.status, reason=args.reason,
                                         justification=args.justification, by=args.by,
                                         reasons=override_reasons(kb.directory))
    print(w("override.recorded", id=override.id, fiche=override.fiche, entry=override.entry,
            engine=w.status(override.engine_status), status=w.status(override.status)))
    return 0
