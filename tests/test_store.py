"""One contract for every store (store/base.py): write → load → search → add → remove → stale → damaged.

Run against the folder backend and PostgreSQL + pgvector (a real server from the `pgserver` wheel, started
once per session in a temporary folder, one database per test). The vectors come from one build with the
fake embedder, written to each backend: nothing is embedded per backend.
"""
import json
import threading
import traceback
import uuid
from pathlib import Path

import numpy as np
import pytest

from assistant.ingest.corpus import DEFAULT_CORPUS_DIR, load_documents
from assistant.errors import BuildInProgress, IndexError_
from assistant.search.index import build_into, make_build
from assistant.search.retrieval import Retriever
from assistant.search.store import open_store
from assistant.search.store.folder import FolderStore, live_folder
from tests.test_index import FakeEncoder

FIXTURES = Path(__file__).parent / "fixtures" / "documents"
ADDED = "guofa_2018_39_cujin_jiuye.txt"


def _encoders():
    return {"e5": FakeEncoder(), "use": FakeEncoder(48, "fake-48")}


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    pgserver = pytest.importorskip("pgserver")
    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="delete")  # dropped after
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def first_build(catalog):
    """The seed corpus embedded once (fake encoders), written to every backend."""
    from assistant.ingest.library import Library
    return make_build(catalog, _encoders(), library_digest=Library(Path("/nonexistent")).digest())


def _new_database(server) -> str:
    import psycopg
    name = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.get_uri(name)


@pytest.fixture(params=["folder", "postgres"])
def store(request, tmp_path):
    if request.param == "folder":
        yield FolderStore(tmp_path / "index", data_dir=tmp_path / "data")
    else:
        s = open_store(_new_database(request.getfixturevalue("pg_server")))
        yield s
        s.close()


def _sql(store, statement: str, *args):
    import psycopg
    with psycopg.connect(store.url, autocommit=True) as conn:
        return conn.execute(statement, args).rowcount


def _folder_reference(build, tmp_path):
    ref = FolderStore(tmp_path / "reference", data_dir=tmp_path / "no-data")
    ref.write(build)
    return ref.load(corpus_dir=DEFAULT_CORPUS_DIR)


def _dev_questions(n=12):
    path = Path(__file__).parent.parent / "eval" / "dev.jsonl"
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines()[:n]]


def test_write_load_search_equal_the_folder(store, first_build, tmp_path):
    assert store.version() is None
    with pytest.raises(IndexError_, match="python -m assistant build"):
        store.load(corpus_dir=DEFAULT_CORPUS_DIR)
    assert store.write(first_build) == first_build.name == store.version()
    ix = store.load(corpus_dir=DEFAULT_CORPUS_DIR)
    assert ix.version == first_build.name
    assert ix.passages == first_build.passages and ix.clause_rows == first_build.clauses
    assert list(ix.vocabulary) == first_build.vocabulary
    for enc_id, vecs in first_build.vectors.items():
        assert np.array_equal(ix.faiss[enc_id].reconstruct_n(0, ix.faiss[enc_id].ntotal), vecs)
        assert np.array_equal(ix.vocab_vectors[enc_id], first_build.vocab_vectors[enc_id])
    ref = _folder_reference(first_build, tmp_path)
    enc = _encoders()
    for q in _dev_questions():   # the same clauses in the same order with the same scores
        got = [(h.clause.clause_id, h.score, h.signals) for h in Retriever(ix, enc).search(q, top_k=10)]
        assert got == [(h.clause.clause_id, h.score, h.signals) for h in Retriever(ref, enc).search(q, top_k=10)], q


def test_add_and_remove_go_live_all_at_once_and_a_watcher_sees_them(store, first_build, monkeypatch):
    from assistant.search import changes as ingest
    monkeypatch.setattr(ingest, "_encoders_of", lambda store: _encoders())
    store.write(first_build)
    v1 = store.version()
    replica = open_store(store.describe() if isinstance(store, FolderStore) else store.url,
                         data_dir=getattr(store, "data_dir", None))
    seen = []
    watcher = threading.Thread(target=lambda: seen.append(replica.changed(v1, timeout=60)))
    watcher.start()
    change = ingest.add_documents([(ADDED, (FIXTURES / ADDED).read_bytes())], corpus_dir=DEFAULT_CORPUS_DIR,
                                  store=store)
    watcher.join(70)
    v2 = store.version()
    assert v2 != v1 and seen == [v2]
    assert change.keys == ("39",) and "reused" in change.outcome
    ix = store.load(corpus_dir=DEFAULT_CORPUS_DIR)
    assert ix.version == v2 and [d.key for d in ix.catalog.documents][-1] == "39"
    assert [e.key for e in store.library().entries()] == ["39"]
    embedded = {e["id"]: (e["embedded"], e["reused"]) for e in ix.manifest["encoders"]}
    assert embedded["e5"][1] == len(first_build.passages)   # only the new document's passages were embedded
    # built without the hand English renderings, the index stays so after an add
    assert not first_build.manifest["renderings"] and not ix.manifest["renderings"]
    assert not any(p["source"] in ("en", "en-sent") for p in ix.passages)
    ingest.remove_document("39", corpus_dir=DEFAULT_CORPUS_DIR, store=store)
    assert store.version() not in (v1, v2) and store.library().entries() == []
    assert [d.key for d in store.load(corpus_dir=DEFAULT_CORPUS_DIR).catalog.documents] == ["40", "41", "42"]
    if not isinstance(store, FolderStore):
        replica.close()


def test_a_failed_write_changes_nothing(store, first_build, catalog):
    store.write(first_build)
    v1 = store.version()
    plan = store.library().plan([(ADDED, (FIXTURES / ADDED).read_bytes())], existing=load_documents())
    if isinstance(store, FolderStore):
        store.before_live = lambda: 1 / 0
        fails = ZeroDivisionError
    else:
        fails = IndexError_
    build = make_build(catalog, _encoders(), previous=store, library_digest=plan.digest, library=plan.change())
    if not isinstance(store, FolderStore):   # pgvector refuses a 0-d vector: the COPY fails after the library rows
        build.vectors["use"] = build.vectors["use"][:, :0]
    with pytest.raises(fails):
        store.write(build)
    assert store.version() == v1 and store.library().entries() == []
    assert store.load(corpus_dir=DEFAULT_CORPUS_DIR).version == v1


def test_one_build_at_a_time(store, first_build, catalog):
    with store.lock():
        with pytest.raises(BuildInProgress, match="another build is writing"):
            build_into(store, catalog, _encoders())
    assert store.version() is None


def test_a_changed_corpus_is_stale(store, first_build, tmp_path):
    store.write(first_build)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    page = (DEFAULT_CORPUS_DIR / "000_084d63c18fb0a30d.txt").read_text(encoding="utf-8")
    (corpus / "page.txt").write_text(page.replace("85%以上", "86%以上"), encoding="utf-8")
    with pytest.raises(IndexError_, match="changed since the index was built"):
        store.load(corpus_dir=corpus)
    from assistant.search.index import stale_reason
    assert stale_reason(store) is None
    assert "changed since" in stale_reason(store, corpus_dir=corpus)


def _damage_folder(store, what):
    folder = live_folder(store.dir)
    if what == "library":
        (store.data_dir).mkdir(parents=True, exist_ok=True)
        (store.data_dir / "library.json").write_text('{"format": 1, "documents": []}', encoding="utf-8")
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        manifest["library_sha256"] = "0" * 64   # built from another library
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        return
    name = {"vector row": "e5.faiss", "vector value": "use.faiss", "passage text": "passages.jsonl",
            "token": "bm25/vocab.index.json"}[what]
    data = bytearray((folder / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    (folder / name).write_bytes(bytes(data))


def _damage_postgres(store, what):
    if what == "library":
        _sql(store, "UPDATE builds SET manifest = (jsonb_build_object('library_sha256', repeat('0', 64))::jsonb "
                    "|| (manifest::jsonb - 'library_sha256'))::json")
        return
    statement = {
        "vector row": "DELETE FROM vectors WHERE encoder = 'e5' AND row = 7",
        "vector value": "UPDATE vectors SET embedding = embedding + embedding WHERE encoder = 'use' AND row = 3",
        "passage text": "UPDATE passages SET text = text || '。' WHERE row = 11",
        "token": "UPDATE passages SET tokens = tokens || '秸秆'::text WHERE row = 5",
    }[what]
    assert _sql(store, statement) == 1


@pytest.mark.parametrize("what, message", [
    ("vector row", r"checksum|vectors for \d+ passages|row is missing"),
    ("vector value", "checksum"),
    ("passage text", "checksum"),
    ("token", "checksum"),
    ("library", "documents added in .* changed"),
])
def test_damaged_data_is_refused_with_the_fix(store, first_build, what, message):
    store.write(first_build)
    (_damage_folder if isinstance(store, FolderStore) else _damage_postgres)(store, what)
    with pytest.raises(IndexError_, match=message) as e:
        store.load(corpus_dir=DEFAULT_CORPUS_DIR)
    assert "python -m assistant build" in str(e.value)


def test_damaged_vectors_are_reembedded_not_reused(store, first_build, catalog):
    store.write(first_build)
    (_damage_folder if isinstance(store, FolderStore) else _damage_postgres)(store, "vector value")
    old, why = store.previous_vectors("use", "fake-48")
    assert old == {} and "not reused" in why
    assert len(store.previous_vectors("e5", "fake-bigrams")[0]) == len({p["key"] for p in first_build.passages})
    assert store.previous_vectors("e5", "another encoder") == ({}, "")


# ---- PostgreSQL only: where the store is, and what never shows ---------------------------------------

@pytest.mark.parametrize("url", [
    "postgresql://alice:s3cret-Pw0rd@127.0.0.1:9/policy",
    "postgresql://alice:s3cret-Pw0rd@127.0.0.1:notaport/policy",
    "postgresql://alice@127.0.0.1:9/policy?password=s3cret-Pw0rd&sslmode=disable",
    "postgresql://alice:s3cret%2DPw0rd@127.0.0.1:9/policy",
])
def test_a_password_is_never_in_a_message(url, capsys):
    from assistant.serve.cli import main
    store = open_store(url)
    assert "s3cret" not in store.describe() and "***" in store.describe()
    for call in (store.version, store.manifest, lambda: store.load(corpus_dir=DEFAULT_CORPUS_DIR)):
        with pytest.raises(IndexError_) as e:
            call()
        assert "s3cret" not in str(e.value) and "127.0.0.1" in str(e.value)
        assert "s3cret" not in "".join(traceback.format_exception(e.value))   # what a log of it would print
    assert main(["ask", "--store", url, "秸秆综合利用率"]) == IndexError_.exit_code
    out = capsys.readouterr()
    assert "s3cret" not in out.out + out.err and "cannot connect" in out.err


def test_the_store_comes_from_the_environment(monkeypatch, tmp_path):
    from assistant.search.store.postgres import PostgresStore
    monkeypatch.setenv("ASSISTANT_STORE", "postgresql://u@db.example/x")
    assert isinstance(open_store(), PostgresStore)
    assert isinstance(open_store(tmp_path), FolderStore)   # an explicit folder wins
    monkeypatch.delenv("ASSISTANT_STORE")
    assert isinstance(open_store(), FolderStore)
    with pytest.raises(IndexError_, match="no store backend for mysql:// URLs"):
        open_store("mysql://u:pw@db/x")
