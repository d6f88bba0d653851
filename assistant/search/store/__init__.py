"""Where the index lives: one protocol (base.Store), one module per backend.

    folder.py    an index folder of FAISS + bm25s files and a manifest (the embedded default)
    postgres.py  PostgreSQL with pgvector: documents, clauses, passages and vectors in tables

`open_store(spec)` takes a folder path or a `postgresql://` URL; without one, the environment variable
ASSISTANT_STORE, then the default folder `index/`.
"""
from __future__ import annotations

import os
from pathlib import Path

from .base import Build, LibraryChange, Store  # noqa: F401 — the store API

ENV = "ASSISTANT_STORE"
URL_SCHEMES = ("postgresql://", "postgres://")


def is_url(spec) -> bool:
    return isinstance(spec, str) and spec.startswith(URL_SCHEMES)


def open_store(spec: str | Path | None = None, *, data_dir: Path | None = None) -> Store:
    """The store named by `spec` (a folder path or a postgresql:// URL; default $ASSISTANT_STORE, then index/).

    `data_dir` is the library folder of a folder store; a database keeps its library in its own tables."""
    if spec is None or spec == "":
        spec = os.environ.get(ENV) or None
    if is_url(spec):
        from .postgres import PostgresStore
        return PostgresStore(spec)
    if isinstance(spec, str) and "://" in spec:  # not a folder: a URL of a kind there is no backend for
        from ...errors import IndexError_
        scheme = spec.split("://", 1)[0]
        raise IndexError_(f"no store backend for {scheme}:// URLs; give a postgresql:// URL or an index folder")
    from ..index import DEFAULT_INDEX_DIR
    from .folder import FolderStore
    return FolderStore(Path(spec) if spec is not None else DEFAULT_INDEX_DIR, data_dir=data_dir)


def as_store(store_or_spec, *, data_dir: Path | None = None) -> Store:
    """A store as it is, or the one a path or URL names."""
    return store_or_spec if isinstance(store_or_spec, Store) else open_store(store_or_spec, data_dir=data_dir)
