"""Adding and removing documents, end to end: read, parse, check, index, commit — the same steps for the
command line and the page's document area.

Each operation plans the change (library.Library.plan: nothing written), builds the new index from the
planned catalog (only new passages are embedded: the build reuses every vector it already has), and
commits the library just before the new index goes live. A failure at any step leaves the library and
the live index as they were.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ..ingest.catalog import Catalog
from ..ingest.corpus import Document, load_documents
from ..ingest.library import Library
from ..ingest.records import clause_to_dict


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


def _live_manifest(store) -> dict | None:
    """The live build's manifest, or None when there is no index yet or it cannot be read."""
    from ..errors import IndexError_
    try:
        return store.manifest()
    except (IndexError_, OSError, ValueError, KeyError):
        return None


def _encoders_of(manifest: dict | None) -> dict:
    """The encoders the live index was built with, so its vectors are reused (the default ones when there is
    no index yet, or its encoders cannot be had: then everything is embedded)."""
    from .encoders import configured, for_manifest
    from ..errors import IndexError_
    if manifest is None:
        return configured()
    try:
        return for_manifest(manifest)
    except (IndexError_, OSError, ValueError, KeyError):
        return configured()


def _store(store, index_dir, data_dir):
    from .store import as_store
    return as_store(store if store is not None else index_dir, data_dir=data_dir)


def _rebuild(plan, *, corpus_dir: Path, store, progress: bool, log, catalog: Catalog | None = None) -> str:
    """Build the planned catalog (`catalog`, when the caller already parsed it) and commit the plan with it."""
    from ..ingest.glossary import load_renderings
    from .index import build_into
    t0 = time.perf_counter()
    catalog = catalog or Catalog.from_documents(list(plan.documents))
    log("indexing: embedding the new passages (the others are reused) …")
    live = _live_manifest(store)
    # an index built without the hand renderings (`build --no-renderings`) stays so; a new store gets them
    with_renderings = live is None or live.get("renderings", True)
    build = build_into(store, catalog, _encoders_of(live), corpus_dir=corpus_dir, library_digest=plan.digest,
                       library=plan.change(), english=load_renderings() if with_renderings else {},
                       progress=progress)
    done = ", ".join(f"{e['id']}: {e['embedded']} embedded, {e['reused']} reused" for e in build.manifest["encoders"])
    return f"{done}; {time.perf_counter() - t0:.1f} s; index {build.name}"


def add_documents(files: list[tuple[str, bytes]], *, corpus_dir: Path, data_dir: Path | None = None,
                  index_dir: Path | None = None, store=None, dry_run: bool = False, replace: bool = False,
                  progress: bool = False, log=lambda line: None) -> Change:
    """Add files (name, bytes) to the library and the index; with `dry_run`, only parse and report.

    `store` (or the folder `index_dir` with the library in `data_dir`) is where library and index live; the
    library changes with the build that goes live, all or nothing.
    Raises BadDocument (nothing changed) for a file that is not a readable document or is already present."""
    store = _store(store, index_dir, data_dir)
    library = store.library()
    log(f"reading {len(files)} file(s) …")
    plan = library.plan(files, existing=load_documents(corpus_dir) + library.documents(), replace=replace)
    catalog = Catalog.from_documents(list(plan.documents))
    summaries = tuple(document_summary(doc, catalog) for _, _, doc in plan.added)
    keys = tuple(e.key for e, _, _ in plan.added)
    if dry_run:
        return Change(summaries, f"dry run: {len(keys)} document(s) parsed, nothing changed", keys)
    done = _rebuild(plan, corpus_dir=corpus_dir, store=store, progress=progress, log=log, catalog=catalog)
    return Change(summaries, f"added {', '.join(keys)} — {done}", keys)


def remove_document(doc: str, *, corpus_dir: Path, data_dir: Path | None = None, index_dir: Path | None = None,
                    store=None, log=lambda line: None) -> str:
    """Remove an added document (by key or number) from the library and the index; returns what was done."""
    store = _store(store, index_dir, data_dir)
    library = store.library()
    existing = load_documents(corpus_dir) + library.documents()
    key = next((d.key for d in existing if doc in (d.key, d.doc_number)), doc)
    plan = library.plan([], existing=existing, remove=(key,))
    done = _rebuild(plan, corpus_dir=corpus_dir, store=store, progress=False, log=log)
    return f"removed {key} — {done}"


def document_rows(corpus_dir: Path, data_dir: Path | None = None, *, library: Library | None = None) -> list[dict]:
    """Every document served, seed first: key, number, title, issuer, date, clause count, where it comes from.
    `library`: a store's (default: the library in `data_dir`)."""
    library = library if library is not None else Library(data_dir)
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
