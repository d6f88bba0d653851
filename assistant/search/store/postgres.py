"""PostgreSQL with pgvector: every build's documents, clauses, passages and vectors in tables; one row says
which build is live.

    builds        id, name (build-<time>-<id>: the index version), manifest (json: as the folder's, plus
                  the sha256 of each part, checked on load)
    live          one row: the live build; replicas watch it (NOTIFY on channel assistant_index, or poll)
    originals     sha256 → the bytes of each added file, shared by the builds whose library names it
    library       per build, the library entries (library.Entry) in order
    clauses       per build, every clause's record (the CLI's JSON form)
    passages      per build, row, clause_id, source, key, text, span, and the BM25 tokens of the passage
    vectors       per build and encoder, one pgvector `vector` per passage row
    vocabulary    per build, the documents' content words; vocab_vectors their vectors per encoder

A write is one transaction: the new build's rows, then the live row, then pruning (the live build and the
one before it are kept), then NOTIFY — an add or remove is all or nothing, library included, and readers
see the old build or the new one. A load reads the live build in one REPEATABLE READ transaction, checks
each part against its sha256 and rebuilds in memory the FAISS index (from the same float32 vectors) and the
BM25 model (bm25s over the stored tokens) the folder backend reads from files, so rankings are identical.

The URL's password (or the environment's PGPASSWORD) is never written into a message: `describe()` and
every error name the store by its URL with the password replaced by ***.
"""
from __future__ import annotations

import hashlib
import json
import re
import struct
import threading
import time
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit, urlunsplit

import numpy as np

from ...errors import BuildInProgress, DataError, IndexError_
from ..index import FORMAT_VERSION, REBUILD, LoadedIndex, assemble, check_sources, make_faiss
from ...ingest.library import Entry, Library
from .base import Build, part_digests, reusable

CHANNEL = "assistant_index"
BUILD_LOCK = 7_413_001   # advisory lock ids: one build at a time; writes of the live row in turn
WRITE_LOCK = 7_413_002
KEEP = 2                 # builds kept: the live one and the one before it

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS builds (
    id bigserial PRIMARY KEY, name text UNIQUE NOT NULL, manifest json NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS live (
    one boolean PRIMARY KEY DEFAULT true CHECK (one), build_id bigint NOT NULL REFERENCES builds(id),
    version text NOT NULL);
CREATE TABLE IF NOT EXISTS originals (sha256 text PRIMARY KEY, data bytea NOT NULL);
CREATE TABLE IF NOT EXISTS library (
    build_id bigint NOT NULL REFERENCES builds(id) ON DELETE CASCADE, position int NOT NULL,
    entry json NOT NULL, sha256 text NOT NULL REFERENCES originals(sha256), PRIMARY KEY (build_id, position));
CREATE TABLE IF NOT EXISTS clauses (
    build_id bigint NOT NULL REFERENCES builds(id) ON DELETE CASCADE, position int NOT NULL,
    clause_id text NOT NULL, record json NOT NULL, PRIMARY KEY (build_id, position));
CREATE TABLE IF NOT EXISTS passages (
    build_id bigint NOT NULL REFERENCES builds(id) ON DELETE CASCADE, row int NOT NULL,
    clause_id text NOT NULL, source text NOT NULL, key text NOT NULL, text text NOT NULL, span int[],
    tokens text[] NOT NULL, PRIMARY KEY (build_id, row));
CREATE TABLE IF NOT EXISTS vectors (
    build_id bigint NOT NULL REFERENCES builds(id) ON DELETE CASCADE, encoder text NOT NULL, row int NOT NULL,
    embedding vector NOT NULL, PRIMARY KEY (build_id, encoder, row));
CREATE TABLE IF NOT EXISTS vocabulary (
    build_id bigint NOT NULL REFERENCES builds(id) ON DELETE CASCADE, position int NOT NULL, term text NOT NULL,
    PRIMARY KEY (build_id, position));
CREATE TABLE IF NOT EXISTS vocab_vectors (
    build_id bigint NOT NULL REFERENCES builds(id) ON DELETE CASCADE, encoder text NOT NULL,
    position int NOT NULL, embedding vector NOT NULL, PRIMARY KEY (build_id, encoder, position));
"""

PART_NAMES = {"clauses": "clause records", "passages": "passages", "tokens": "BM25 tokens",
              "vocabulary": "vocabulary"}


def redact(url: str) -> str:
    """The URL without its password (user, host, database and options stay: they say which store)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo and userinfo.split(":", 1)[1] else f"{user}@{host}"
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _secrets(url: str) -> list[str]:
    import os
    out = []
    try:
        parts = urlsplit(url)
        if parts.password:
            out += [parts.password, unquote(parts.password)]
        out += [m for m in re.findall(r"(?i)(?:^|&)password=([^&]*)", parts.query) if m]
    except ValueError:  # a URL urlsplit cannot read: scrub everything after the scheme's user
        out.append(url)
    if os.environ.get("PGPASSWORD"):
        out.append(os.environ["PGPASSWORD"])
    return sorted({s for s in out if s}, key=len, reverse=True)


def _register_vector(conn) -> None:
    """pgvector's binary form ↔ float32 numpy arrays (2-byte dimension, 2 unused bytes, big-endian float4s)."""
    from psycopg.adapt import Dumper, Loader
    from psycopg.pq import Format
    from psycopg.types import TypeInfo
    info = TypeInfo.fetch(conn, "vector")
    if info is None:
        raise IndexError_("the database has no pgvector type `vector` (CREATE EXTENSION vector failed)")
    info.register(conn)

    class VectorDumper(Dumper):
        format = Format.BINARY
        oid = info.oid

        def dump(self, obj):
            a = np.asarray(obj, dtype=">f4")
            return struct.pack(">HH", a.shape[0], 0) + a.tobytes()

    class VectorLoader(Loader):
        format = Format.BINARY

        def load(self, data):
            dim = struct.unpack_from(">H", data)[0]
            return np.frombuffer(data, dtype=">f4", count=dim, offset=4)

    conn.adapters.register_dumper(None, VectorDumper)
    conn.adapters.register_loader(info.oid, VectorLoader)


class StoredLibrary(Library):
    """The added documents of one build, read from the database (originals checked against their sha256)."""

    def __init__(self, entries: list[Entry], originals: dict, where: str):
        self.dir = where
        self._entries, self._originals = list(entries), originals

    def entries(self) -> list[Entry]:
        return list(self._entries)

    def original(self, entry: Entry) -> bytes:
        data = self._originals.get(entry.sha256)
        if data is None or hashlib.sha256(data).hexdigest() != entry.sha256:
            raise DataError(f"the original of document {entry.key} (added as {entry.name}) in {self.dir} is "
                            f"{'missing' if data is None else 'damaged: it does not match its sha256'}; "
                            f"`python -m assistant remove {entry.key} --store …` removes the document")
        return data

    def commit(self, entries, originals) -> None:
        raise TypeError("a database library changes with the build that goes live (PostgresStore.write)")


class PostgresStore:
    def __init__(self, url: str):
        self.url = url
        self._where = redact(url)
        self._secrets = _secrets(url)
        self._schema_ready = False
        self._mutex = threading.Lock()
        self._watch_conn = None    # autocommit, LISTENing: version() and changed()

    def describe(self) -> str:
        return self._where

    def _rebuild(self) -> str:
        return f"{REBUILD} with --store {self._where}"

    def _scrub(self, text: str) -> str:
        for s in self._secrets:
            text = text.replace(s, "***")
        return text

    def _error(self, what: str, e: Exception) -> IndexError_:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        return IndexError_(f"{what} {self._where} ({type(e).__name__}: {self._scrub(first)})")

    def _connect(self, *, autocommit: bool = False):
        import psycopg
        try:
            conn = psycopg.connect(self.url, autocommit=autocommit, connect_timeout=10)
        except (psycopg.Error, ValueError) as e:
            raise self._error("cannot connect to the store", e) from None
        try:
            if not self._schema_ready:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                    conn.execute(SCHEMA)
                self._schema_ready = True
            _register_vector(conn)
        except psycopg.Error as e:
            conn.close()
            raise self._error("cannot prepare the tables of the store", e) from None
        return conn

    @contextmanager
    def _reading(self):
        """One REPEATABLE READ transaction: every row read from one build, whatever is written meanwhile."""
        import psycopg
        conn = self._connect()
        try:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with conn.transaction():
                yield conn
        except psycopg.Error as e:
            raise self._error("cannot read the store", e) from None
        finally:
            conn.close()

    def _live(self, conn) -> tuple[int, str, dict] | None:
        row = conn.execute("SELECT b.id, b.name, b.manifest FROM live l JOIN builds b ON b.id = l.build_id").fetchone()
        return row

    # ---- version and watching --------------------------------------------------------------------
    def _watcher(self):
        if self._watch_conn is None or self._watch_conn.closed:
            self._watch_conn = self._connect(autocommit=True)
            self._watch_conn.execute(f"LISTEN {CHANNEL}")
        return self._watch_conn

    def version(self) -> str | None:
        import psycopg
        with self._mutex:
            for attempt in (1, 2):  # a connection the server dropped is opened again once
                try:
                    row = self._watcher().execute("SELECT version FROM live").fetchone()
                    return row[0] if row else None
                except psycopg.OperationalError as e:
                    self._watch_conn = None
                    if attempt == 2:
                        raise self._error("cannot read the live version of", e) from None

    def changed(self, version: str | None, *, timeout: float = 0.0) -> str | None:
        import psycopg
        live = self.version()   # LISTEN is on before this read: a NOTIFY after it is not missed
        if live != version or timeout <= 0:
            return live if live != version else None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._mutex:
                try:
                    for _ in self._watcher().notifies(timeout=max(deadline - time.monotonic(), 0), stop_after=1):
                        break
                except psycopg.OperationalError:
                    self._watch_conn = None
            live = self.version()
            if live != version:
                return live
        return None

    def close(self) -> None:
        if self._watch_conn is not None:
            self._watch_conn.close()
            self._watch_conn = None

    # ---- what a build reuses -----------------------------------------------------------------------
    def manifest(self) -> dict:
        with self._reading() as conn:
            live = self._live(conn)
        if live is None:
            raise IndexError_(f"no index in {self._where} (no build is live); {self._rebuild()}")
        return live[2]

    @contextmanager
    def lock(self):
        conn = self._connect(autocommit=True)
        try:
            if not conn.execute("SELECT pg_try_advisory_lock(%s)", (BUILD_LOCK,)).fetchone()[0]:
                raise BuildInProgress(f"another build is writing {self._where}; wait for it to finish — its index "
                                      "goes live when it is done — and run the build again only if you need one after it")
            yield
        finally:
            conn.close()  # the session's advisory lock ends with it

    def library(self) -> Library:
        with self._reading() as conn:
            live = self._live(conn)
            entries, originals = self._library(conn, live[0]) if live else ([], {})
        return StoredLibrary(entries, originals, self._where)

    def _library(self, conn, build_id: int) -> tuple[list[Entry], dict]:
        rows = conn.execute("SELECT l.entry, o.data FROM library l LEFT JOIN originals o ON o.sha256 = l.sha256 "
                            "WHERE l.build_id = %s ORDER BY l.position", (build_id,)).fetchall()
        entries = [Entry(**entry) for entry, _ in rows]
        return entries, {e.sha256: bytes(data) for e, (_, data) in zip(entries, rows) if data is not None}

    def _vectors(self, conn, table: str, build_id: int, enc_id: str) -> np.ndarray:
        key = "row" if table == "vectors" else "position"
        cur = conn.cursor(binary=True)
        rows = cur.execute(f"SELECT {key}, embedding FROM {table} WHERE build_id = %s AND encoder = %s ORDER BY {key}",
                           (build_id, enc_id)).fetchall()
        if [r for r, _ in rows] != list(range(len(rows))):
            raise IndexError_(f"the {enc_id} rows of {table} in {self._where} are not numbered 0…{len(rows) - 1} "
                              f"(a row is missing); {self._rebuild()}")
        return np.vstack([v for _, v in rows]).astype(np.float32) if rows else np.zeros((0, 0), np.float32)

    def previous_vectors(self, enc_id: str, name: str) -> tuple[dict, str]:
        try:
            with self._reading() as conn:
                live = self._live(conn)
                if live is None:
                    return {}, ""
                build_id, build_name, manifest = live
                if not any(e["id"] == enc_id and e["name"] == name for e in manifest["encoders"]):
                    return {}, ""
                keys = [k for (k,) in conn.execute("SELECT key FROM passages WHERE build_id = %s ORDER BY row",
                                                   (build_id,))]
                vecs = self._vectors(conn, "vectors", build_id, enc_id)
            if len(vecs) != len(keys):
                raise IndexError_(f"{build_name} holds {len(vecs)} {enc_id} vectors for {len(keys)} passages")
            if part_digests([], [], [], [], {enc_id: vecs}, {})[f"vectors.{enc_id}"] != \
                    manifest["parts"][f"vectors.{enc_id}"]:
                raise IndexError_(f"the {enc_id} vectors of {build_name} do not match their checksum")
            return reusable(keys, vecs), ""
        except (IndexError_, KeyError, ValueError) as e:
            return {}, f"the live build's {enc_id} vectors were not reused ({type(e).__name__}: {e}); all re-embedded"

    def previous_vocabulary(self, names: dict) -> dict:
        with self._reading() as conn:
            live = self._live(conn)
            if live is None:
                return {}
            build_id, _, manifest = live
            terms = [t for (t,) in conn.execute("SELECT term FROM vocabulary WHERE build_id = %s ORDER BY position",
                                                (build_id,))]
            out = {}
            for spec in manifest["encoders"]:
                if names.get(spec["id"]) == spec["name"]:
                    vecs = self._vectors(conn, "vocab_vectors", build_id, spec["id"])
                    if len(vecs) == len(terms):
                        out[spec["id"]] = dict(zip(terms, vecs))
        return out

    # ---- write -----------------------------------------------------------------------------------
    def write(self, build: Build) -> str:
        import psycopg
        from psycopg.types.json import Json
        manifest = {**build.manifest, "parts": build.digests()}
        conn = self._connect()
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                live = self._live(conn)
                build_id = conn.execute("INSERT INTO builds (name, manifest) VALUES (%s, %s) RETURNING id",
                                        (build.name, Json(manifest))).fetchone()[0]
                if build.library is None:   # the library stays: the new build names the same entries
                    if live is not None:
                        conn.execute("INSERT INTO library (build_id, position, entry, sha256) SELECT %s, position, "
                                     "entry, sha256 FROM library WHERE build_id = %s", (build_id, live[0]))
                else:
                    with conn.cursor() as cur:
                        cur.executemany("INSERT INTO originals (sha256, data) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                                        list(build.library.originals.items()))
                        cur.executemany("INSERT INTO library (build_id, position, entry, sha256) VALUES (%s, %s, %s, %s)",
                                        [(build_id, i, Json(e.to_dict()), e.sha256)
                                         for i, e in enumerate(build.library.entries)])
                self._copy_rows(conn, build_id, build)
                conn.execute("INSERT INTO live (one, build_id, version) VALUES (true, %s, %s) ON CONFLICT (one) "
                             "DO UPDATE SET build_id = EXCLUDED.build_id, version = EXCLUDED.version",
                             (build_id, build.name))
                conn.execute("DELETE FROM builds WHERE id NOT IN (SELECT id FROM builds ORDER BY id DESC LIMIT %s)",
                             (KEEP,))
                conn.execute("DELETE FROM originals o WHERE NOT EXISTS "
                             "(SELECT 1 FROM library l WHERE l.sha256 = o.sha256)")
                conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, build.name))
        except psycopg.Error as e:
            raise self._error("the build was not written (nothing changed) to", e) from None
        finally:
            conn.close()
        return build.name

    @staticmethod
    def _copy_rows(conn, build_id: int, build: Build) -> None:
        with conn.cursor() as cur:
            with cur.copy("COPY clauses (build_id, position, clause_id, record) FROM STDIN") as cp:
                for i, c in enumerate(build.clauses):
                    cp.write_row((build_id, i, c["clause_id"], json.dumps(c, ensure_ascii=False)))
            with cur.copy("COPY passages (build_id, row, clause_id, source, key, text, span, tokens) FROM STDIN") as cp:
                for i, (p, toks) in enumerate(zip(build.passages, build.tokens)):
                    cp.write_row((build_id, i, p["clause_id"], p["source"], p["key"], p["text"], p.get("span"), toks))
            with cur.copy("COPY vocabulary (build_id, position, term) FROM STDIN") as cp:
                for i, t in enumerate(build.vocabulary):
                    cp.write_row((build_id, i, t))
            for table, key, vectors in (("vectors", "row", build.vectors), ("vocab_vectors", "position",
                                                                            build.vocab_vectors)):
                for enc_id, vecs in vectors.items():
                    with cur.copy(f"COPY {table} (build_id, encoder, {key}, embedding) FROM STDIN (FORMAT BINARY)") as cp:
                        cp.set_types(["int8", "text", "int4", "vector"])
                        for i, v in enumerate(vecs):
                            cp.write_row((build_id, enc_id, i, v))

    # ---- load ------------------------------------------------------------------------------------
    def load(self, *, corpus_dir) -> LoadedIndex:
        from ...ingest.catalog import Catalog
        from ...ingest.corpus import load_documents
        from ..index import index_tokenizer
        from ..lexical import BM25Index
        with self._reading() as conn:
            live = self._live(conn)
            if live is None:
                raise IndexError_(f"no index in {self._where} (no build is live); {self._rebuild()}")
            build_id, name, manifest = live
            where = f"build {name} of {self._where}"
            if manifest.get("format_version") != FORMAT_VERSION:
                raise IndexError_(f"index format {manifest.get('format_version')!r} in {where}, this program reads "
                                  f"format {FORMAT_VERSION}; {self._rebuild()}")
            entries, originals = self._library(conn, build_id)
            clause_rows = [r for (r,) in conn.execute("SELECT record FROM clauses WHERE build_id = %s "
                                                      "ORDER BY position", (build_id,))]
            passages, tokens = [], []
            for clause_id, source, key, text, span, toks in conn.execute(
                    "SELECT clause_id, source, key, text, span, tokens FROM passages WHERE build_id = %s ORDER BY row",
                    (build_id,)):
                row = {"clause_id": clause_id, "source": source, "key": key, "text": text}
                if span is not None:
                    row["span"] = list(span)
                passages.append(row)
                tokens.append(list(toks))
            vocabulary = [t for (t,) in conn.execute("SELECT term FROM vocabulary WHERE build_id = %s "
                                                     "ORDER BY position", (build_id,))]
            vectors = {e["id"]: self._vectors(conn, "vectors", build_id, e["id"]) for e in manifest["encoders"]}
            vocab_vectors = {e["id"]: self._vectors(conn, "vocab_vectors", build_id, e["id"])
                             for e in manifest["encoders"]}
        for enc_id, v in vectors.items():
            if len(v) != len(passages):
                raise IndexError_(f"{where} holds {len(v)} {enc_id} vectors for {len(passages)} passages "
                                  f"(rows missing); {self._rebuild()}")
        parts = manifest.get("parts") or {}
        found = part_digests(clause_rows, passages, tokens, vocabulary, vectors, vocab_vectors)
        for part, digest in found.items():
            if parts.get(part) != digest:
                what = PART_NAMES.get(part) or f"{part.split('.')[1]} {'vectors' if part.startswith('vectors') else 'vocabulary vectors'}"
                raise IndexError_(f"the {what} of {where} do not match their checksum in the manifest (damaged or "
                                  f"changed); {self._rebuild()}")
        library = StoredLibrary(entries, originals, self._where)
        check_sources(manifest, corpus_dir=corpus_dir, library=library, where=where)
        catalog = Catalog.from_documents(load_documents(corpus_dir) + library.documents())
        tokenizer = index_tokenizer(catalog)
        # the same float32 vectors into the same kind of FAISS index, and bm25s over the same tokens: the
        # folder backend's scores, bit for bit
        return assemble(where=where, version=name, manifest=manifest, catalog=catalog, passages=passages,
                        clause_rows=clause_rows, faiss={k: make_faiss(v) for k, v in vectors.items()},
                        bm25=BM25Index.from_tokens(tokens, tokenizer=tokenizer), vocabulary=vocabulary,
                        vocab_vectors=vocab_vectors)
