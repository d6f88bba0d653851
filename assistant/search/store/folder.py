"""The embedded store: an index folder of FAISS + bm25s files and a manifest, beside the library's data folder.

Layout of the index folder (default `index/`):

    CURRENT                  the name of the live build folder, replaced atomically
    build-<time>-<id>/
        manifest.json        format version, encoders (id, name, dim, metric), corpus sha256, counts,
                             library versions, sha256 of every other file
        clauses.jsonl        every clause with its records (the CLI's JSON form)
        passages.jsonl       clause_id, source, key (content hash), text[, span] — row i is vector i;
                             sources zh/en are retrieval passages, zh-sent/en-sent answer sentences
        <encoder>.faiss      inner product on L2-normalised vectors, which equals cosine
        bm25/                bm25s's own files (JSON + .npy, no pickle)
        vocab.json           the documents' content words; vocab.<encoder>.npy their vectors (bridge.py)

        .build.lock          held by the build writing this folder (a second build is refused)

A build is written in full into a new folder; only then does CURRENT point at it. A crash at any
point leaves the previous build live, and a half-written folder is never read. One build at a time:
each holds an exclusive lock on `.build.lock` (released by the kernel when its process ends, even
when killed), so a `.tmp-build-*` folder found by the build that holds the lock is a dead build's.
The library of added documents (library.py) lives in its own data folder; a build that changes it
commits it just before CURRENT names the new build.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from ...errors import IndexError_
from ...files import atomic_write, build_lock, fsync_tree, removed_on_failure, sha256_file
from ..index import FORMAT_VERSION, REBUILD, LoadedIndex, assemble, check_sources, make_faiss, read_faiss
from ..lexical import BM25Index
from ...ingest.library import DEFAULT_DATA_DIR, Library
from .base import Build, jsonl, reusable

log = logging.getLogger("assistant.search.index")  # its warnings are the index's, as before the store existed


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def live_folder(index_dir: Path) -> Path:
    index_dir = Path(index_dir)
    current = index_dir / "CURRENT"
    if not current.exists():
        raise IndexError_(f"no index in {index_dir} (CURRENT is missing); {REBUILD}")
    name = current.read_text(encoding="utf-8").strip()
    folder = index_dir / name
    if not name.startswith("build-") or "/" in name or not folder.is_dir():
        raise IndexError_(f"{current} names {name!r}, which is not a build folder in {index_dir}; {REBUILD}")
    return folder


class FolderStore:
    """An index folder and the data folder of its library. `before_live` (optional) runs once a build is
    complete and before it goes live: if it raises, the build is removed and nothing changed."""

    def __init__(self, index_dir: Path, *, data_dir: Path | None = None, before_live=None):
        self.dir = Path(index_dir)
        self.data_dir = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
        self.before_live = before_live
        self._locked = False

    def describe(self) -> str:
        return str(self.dir)

    def version(self) -> str | None:
        try:
            return (self.dir / "CURRENT").read_text(encoding="utf-8").strip()
        except OSError:
            return None

    def changed(self, version: str | None, *, timeout: float = 0.0) -> str | None:
        deadline = time.monotonic() + timeout
        while True:
            live = self.version()
            if live != version:
                return live
            if time.monotonic() >= deadline:
                return None
            time.sleep(min(0.05, max(deadline - time.monotonic(), 0)))

    def manifest(self) -> dict:
        try:
            return json.loads((live_folder(self.dir) / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise IndexError_(f"the manifest of the live build in {self.dir} cannot be read ({e}); {REBUILD}") from e

    @contextmanager
    def lock(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        with build_lock(self.dir):
            self._locked = True
            try:
                yield
            finally:
                self._locked = False

    def library(self) -> Library:
        return Library(self.data_dir)

    def previous_vectors(self, enc_id: str, name: str) -> tuple[dict, str]:
        """Only files that match their checksums are reused: a damaged build is re-embedded, not copied."""
        if not (self.dir / "CURRENT").exists():
            return {}, ""  # the first build
        try:
            live = live_folder(self.dir)
            manifest = json.loads((live / "manifest.json").read_text(encoding="utf-8"))
            spec = next((e for e in manifest["encoders"] if e["id"] == enc_id and e["name"] == name), None)
            if spec is None:
                return {}, ""  # built with another encoder: nothing to reuse
            for file in (spec["file"], "passages.jsonl"):
                if sha256_file(live / file) != manifest["files"][file]:
                    raise IndexError_(f"{live / file} does not match its checksum in the manifest")
            index = read_faiss(live / spec["file"])
            keys = [row["key"] for row in _read_jsonl(live / "passages.jsonl")]
            if len(keys) != index.ntotal:
                raise IndexError_(f"{live} holds {index.ntotal} {enc_id} vectors for {len(keys)} passages")
            return reusable(keys, index.reconstruct_n(0, index.ntotal)), ""
        # what reading a damaged or foreign build raises: ours, file system, JSON/manifest fields, FAISS
        except (IndexError_, OSError, ValueError, KeyError, RuntimeError) as e:
            return {}, f"the live build's {enc_id} vectors were not reused ({type(e).__name__}: {e}); all re-embedded"

    def previous_vocabulary(self, names: dict) -> dict:
        from ..bridge import read_vocabulary
        try:
            return read_vocabulary(live_folder(self.dir), names)
        except IndexError_:  # no earlier build: every term is embedded
            return {}

    # ---- write -----------------------------------------------------------------------------------
    def write(self, build: Build) -> str:
        if not self._locked:
            with self.lock():
                return self.write(build)
        folder = self._write_folder(build)
        try:
            if self.before_live is not None:
                self.before_live()
            # the library's list is replaced in one rename, the last step before CURRENT: a failure before it
            # leaves library and index as they were
            if build.library is not None:
                self.library().commit(build.library.entries, build.library.originals)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        atomic_write(self.dir / "CURRENT", folder.name)
        self._prune(keep=folder.name)
        return folder.name

    def _write_folder(self, build: Build) -> Path:
        """Write a complete build folder (not yet live) and return it."""
        import faiss
        folder = self.dir / build.name
        tmp = self.dir / (".tmp-" + build.name)
        tmp.mkdir()
        with removed_on_failure(tmp, "build", "the next build removes it"):
            (tmp / "clauses.jsonl").write_text(jsonl(build.clauses), encoding="utf-8")
            (tmp / "passages.jsonl").write_text(jsonl(build.passages), encoding="utf-8")
            for spec in build.manifest["encoders"]:
                faiss.write_index(make_faiss(build.vectors[spec["id"]]), str(tmp / spec["file"]))
            BM25Index.from_tokens(build.tokens).save(tmp / "bm25")
            from ..bridge import write_vocabulary
            write_vocabulary(tmp, build.vocabulary, build.vocab_vectors,
                             {e["id"]: e["name"] for e in build.manifest["encoders"]})
            files = {str(p.relative_to(tmp)): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
            manifest = {**build.manifest, "files": files}
            (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
            fsync_tree(tmp)
            os.replace(tmp, folder)
        return folder

    def _prune(self, *, keep: str) -> None:
        """Remove older builds and leftovers of killed builds, keeping the live one and the one before it.

        Runs under the build lock: no other build is running, so every `.tmp-build-*` is a dead build's.
        A folder that cannot be removed is reported, not fatal: the new build is already live."""
        builds = sorted(p for p in self.dir.glob("build-*") if p.is_dir() and p.name != keep)
        for p in builds[:-1] + list(self.dir.glob(".tmp-build-*")):
            try:
                shutil.rmtree(p)
            except OSError as e:
                log.warning("could not remove the old build folder %s (%s); delete it by hand", p, e)

    # ---- load ------------------------------------------------------------------------------------
    def load(self, *, corpus_dir: Path) -> LoadedIndex:
        import numpy as np

        from ...ingest.catalog import Catalog
        from ...ingest.corpus import load_documents
        from ..index import index_tokenizer
        folder = live_folder(self.dir)
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise IndexError_(f"{folder / 'manifest.json'} is missing or unreadable ({e}); {REBUILD}") from e
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexError_(f"index format {manifest.get('format_version')!r} in {folder}, this program reads "
                              f"format {FORMAT_VERSION}; {REBUILD}")
        for name, digest in manifest.get("files", {}).items():
            path = folder / name
            if not path.is_file():
                raise IndexError_(f"{path} is missing from the index; {REBUILD}")
            if sha256_file(path) != digest:
                raise IndexError_(f"{path} does not match its checksum in the manifest (damaged or changed); {REBUILD}")
        if not manifest.get("files"):
            raise IndexError_(f"the manifest in {folder} lists no files; {REBUILD}")
        library = self.library()
        check_sources(manifest, corpus_dir=corpus_dir, library=library, where=str(folder))
        catalog = Catalog.from_documents(load_documents(corpus_dir) + library.documents())
        indexes = {}
        for spec in manifest["encoders"]:
            try:
                indexes[spec["id"]] = read_faiss(folder / spec["file"])
            except RuntimeError as e:  # FAISS's message is a C++ trace: its first line says what failed
                raise IndexError_(f"{folder / spec['file']} cannot be read by FAISS "
                                  f"({str(e).strip().splitlines()[0]}); {REBUILD}") from e
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        return assemble(where=str(folder), version=folder.name, manifest=manifest, catalog=catalog,
                        passages=_read_jsonl(folder / "passages.jsonl"),
                        clause_rows=_read_jsonl(folder / "clauses.jsonl"), faiss=indexes,
                        bm25=BM25Index.load(folder / "bm25", tokenizer=index_tokenizer(catalog)),
                        vocabulary=vocab["terms"],
                        vocab_vectors={e["id"]: np.load(folder / f"vocab.{e['id']}.npy")
                                       for e in manifest["encoders"]},
                        folder=folder)
