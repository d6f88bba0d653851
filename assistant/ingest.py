"""Adding and removing documents, end to end: read, parse, check, index, commit — the same steps for the
command line and the page's document area.

Each operation plans the change (library.Library.plan: nothing written), builds the new index from the
planned catalog (only new passages are embedded: the build reuses every vector it already has), and
commits the library just before the new index goes live. A failure at any step leaves the library and
the live index as they were.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from .catalog import Catalog
from .corpus import Document, load_documents
from .library import Library
from .records import clause_to_dict


@dataclass(frozen=True)
class Change:
    summaries: tuple[dict, ...]   # one per added document (document_summary)
    outcome: str                  # one line for a person: what changed, how long it took
    keys: tuple[str, ...]


def document_summary(doc: Document, catalog: Catalog) -> dict:
    """What was parsed from one document: its facts, its clauses in the `clauses --json` form, what to check."""
    clauses = [c for c in catalog.clauses if c.doc_key == doc.key]
    records = [catalog.records_of(c.clause_id) for c in clauses]
    warnings = list(doc.notes)
    if not doc.doc_number:
        warnings.append("no document number found: cited by its title" + (" and date" if doc.issue_date else ""))
    if not doc.issue_date:
        warnings.append("no date of issue found")
    if any(c.level == "para" for c in clauses):
        warnings.append("no numbering this parser knows (一、 （一） 1. 第X条 …): each paragraph is cited as 第N段")
    return {
        "key": doc.key, "doc_number": doc.doc_number, "title": doc.title, "notice_title": doc.notice_title,
        "issuer": doc.issuer, "issuer_inferred": doc.issuer_inferred,
        "issuer_from": next((n for n in doc.notes if "issuer" in n), ""), "issue_date": doc.issue_date,
        "addressees": list(doc.addressees), "attachments": list(doc.attachments), "source": doc.source,
        "cited_as": doc.cited_as,
        "counts": {"clauses": len(clauses), "responsibilities": sum(len(r.responsibilities) for r in records),
                   "targets": sum(len(r.targets) for r in records)},
        "clauses": [clause_to_dict(c, r) for c, r in zip(clauses, records)],
        "warnings": warnings,
    }


def _encoders_of(index_dir: Path) -> dict:
    """The encoders the live index was built with (the default ones when there is no index yet)."""
    from .index import live_folder
    from .models import E5_NAME, load_e5, load_use
    from .errors import IndexError_
    path = None
    try:
        manifest = json.loads((live_folder(index_dir) / "manifest.json").read_text(encoding="utf-8"))
        spec = next((e for e in manifest["encoders"] if e["id"] == "e5"), {})
        # the provisioned e5 is recorded with its folder too, but loaded by name (as answer.encoders_for does):
        # load_e5(its folder) would be another encoder (no ONNX queries, another name), and every vector of
        # the live build would be embedded again instead of reused
        path = None if spec.get("name") == E5_NAME else spec.get("path")
    except (IndexError_, OSError, ValueError, KeyError):
        pass
    return {"e5": load_e5(path), "use": load_use()}


def _rebuild(plan, *, corpus_dir: Path, index_dir: Path, progress: bool, log) -> tuple[Path, str]:
    from .glossary import load_renderings
    from .index import build_index
    t0 = time.perf_counter()
    catalog = Catalog.from_documents(list(plan.documents))
    log("indexing: embedding the new passages (the others are reused) …")
    folder = build_index(catalog, _encoders_of(index_dir), index_dir, corpus_dir=corpus_dir,
                         library_digest=plan.digest, english=load_renderings(), progress=progress,
                         before_live=plan.commit)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    done = ", ".join(f"{e['id']}: {e['embedded']} embedded, {e['reused']} reused" for e in manifest["encoders"])
    return folder, f"{done}; {time.perf_counter() - t0:.1f} s; index {folder.name}"


def add_documents(files: list[tuple[str, bytes]], *, corpus_dir: Path, data_dir: Path, index_dir: Path,
                  dry_run: bool = False, replace: bool = False, progress: bool = False, log=lambda line: None) -> Change:
    """Add files (name, bytes) to the library and the index; with `dry_run`, only parse and report.

    Raises BadDocument (nothing changed) for a file that is not a readable document or is already present."""
    library = Library(data_dir)
    log(f"reading {len(files)} file(s) …")
    plan = library.plan(files, existing=load_documents(corpus_dir) + library.documents(), replace=replace)
    catalog = Catalog.from_documents(list(plan.documents))
    summaries = tuple(document_summary(doc, catalog) for _, _, doc in plan.added)
    keys = tuple(e.key for e, _, _ in plan.added)
    if dry_run:
        return Change(summaries, f"dry run: {len(keys)} document(s) parsed, nothing changed", keys)
    _, done = _rebuild(plan, corpus_dir=corpus_dir, index_dir=index_dir, progress=progress, log=log)
    return Change(summaries, f"added {', '.join(keys)} — {done}", keys)


def remove_document(doc: str, *, corpus_dir: Path, data_dir: Path, index_dir: Path, log=lambda line: None) -> str:
    """Remove an added document (by key or number) from the library and the index; returns what was done."""
    library = Library(data_dir)
    existing = load_documents(corpus_dir) + library.documents()
    key = next((d.key for d in existing if doc in (d.key, d.doc_number)), doc)
    plan = library.plan([], existing=existing, remove=(key,))
    _, done = _rebuild(plan, corpus_dir=corpus_dir, index_dir=index_dir, progress=False, log=log)
    return f"removed {key} — {done}"


def document_rows(corpus_dir: Path, data_dir: Path) -> list[dict]:
    """Every document served, seed first: key, number, title, issuer, date, clause count, where it comes from."""
    library = Library(data_dir)
    added = {e.key: e for e in library.entries()}
    catalog = Catalog.from_documents(load_documents(corpus_dir) + library.documents())
    counts: dict[str, int] = {}
    for c in catalog.clauses:
        counts[c.doc_key] = counts.get(c.doc_key, 0) + 1
    return [{"key": d.key, "doc_number": d.doc_number, "title": d.title, "issuer": d.issuer,
             "issue_date": d.issue_date, "clauses": counts.get(d.key, 0),
             "from": "added" if d.key in added else "seed",
             "file": added[d.key].name if d.key in added else d.source,
             "added_at": added[d.key].added_at if d.key in added else ""}
            for d in catalog.documents]
