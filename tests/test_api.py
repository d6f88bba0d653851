"""The JSON API (assistant/api.py) behind the guard and the headers: routes, errors as JSON with their statuses
and without paths, limits, the admin token, the docs; then on the real page and index: the answer cache.

The first part runs on a fake composition root (fast: no models); the last tests use the session index."""
import asyncio
import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from assistant.serve.api import install
from assistant.errors import BadDocument, BuildInProgress, IndexError_, UnknownClause
from assistant.answer.response import Answer, Citation
from assistant.serve.guard import Guard, Limits, UploadRule
from assistant.serve.headers import SecurityHeaders
from tests.test_serve import call, echo, scope

TOKEN = "t" * 24
FIXTURES = Path(__file__).parent / "fixtures" / "documents"


class FakeApp:
    """What api.install calls of app.Assistant, with answers and failures on demand."""

    version = "build-1"

    def __init__(self):
        self.fail: Exception | None = None
        self.asked, self.slow = [], 0.0

    def _maybe_fail(self):
        if self.fail:
            raise self.fail

    def ask(self, question, *, doc=None, top_k=5):
        self._maybe_fail()
        time.sleep(self.slow)
        self.asked.append((question, doc, top_k))
        return Answer(question, True, "到2020年，秸秆综合利用率达到85%以上",
                      (Citation("41-2.1", "吉政办发〔2016〕41号", "t", "《t》第一条", "h", "text", 1.0),))

    def clause(self, clause_id):
        self._maybe_fail()
        if clause_id != "40-2.5.5":
            raise UnknownClause(f"no clause {clause_id!r}; use a clause id such as 40-2.5.5")
        return {"clause_id": clause_id, "text": "…"}

    def documents(self):
        self._maybe_fail()
        return [{"key": "40"}]

    def health(self):
        return {"status": "ok", "version": self.version, "cache": {"hits": 0, "misses": 0}}

    def add(self, files):
        self._maybe_fail()
        from assistant.search.changes import Change
        self.added = files
        return Change(({"key": "k1", "doc_number": "n", "title": "t", "issuer": "i", "issue_date": "",
                        "warnings": []},), "added k1 — index build-2 in /srv/index", ("k1",))

    def remove(self, key):
        self._maybe_fail()
        return f"removed {key}"


def served(app, *, limits=Limits(per_minute=0, in_flight=0, queued=0), admin=True, concurrency=2, queue_size=64):
    api = FastAPI(openapi_url="/openapi.json", docs_url=None, redoc_url=None)
    install(api, app, admin_token=TOKEN if admin else None, concurrency=concurrency, queue_size=queue_size)
    uploads = UploadRule(token=TOKEN, max_bytes=64 * 1024, suffixes=(".txt",)) if admin else None
    return SecurityHeaders(Guard(api, limits=limits, uploads=uploads))


@pytest.fixture
def fake():
    return FakeApp()


@pytest.fixture
def client(fake):
    with TestClient(served(fake), raise_server_exceptions=False) as c:
        yield c


def test_ask_returns_the_ask_json_object(client, fake):
    r = client.post("/api/ask", json={"question": "秸秆综合利用率的目标是多少？", "doc": "41", "top_k": 3})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"question", "found", "answer", "lang", "kind", "reason", "citations"}
    assert body["found"] and "85%" in body["answer"] and fake.asked == [("秸秆综合利用率的目标是多少？", "41", 3)]
    assert "content-security-policy" in r.headers and r.headers["x-content-type-options"] == "nosniff"


def test_clauses_documents_and_health(client):
    assert client.get("/api/clauses/40-2.5.5").json()["clause_id"] == "40-2.5.5"
    assert client.get("/api/documents").json() == {"version": "build-1", "documents": [{"key": "40"}]}
    assert client.get("/healthz").json()["version"] == "build-1"


@pytest.mark.parametrize("error,status,exit_code", [
    (UnknownClause("no clause 'x' in /srv/app/index/build-1/clauses.jsonl"), 404, 1),
    (IndexError_("the index in /srv/app/index is damaged; run `python -m assistant build`"), 503, 3),
    (BuildInProgress("another build is writing /srv/app/index"), 409, 3),
    (BadDocument("/tmp/upload/x.pdf is a scan"), 400, 6),
])
def test_domain_errors_are_json_with_their_status_and_no_path(client, fake, error, status, exit_code):
    fake.fail = error
    for r in (client.get("/api/documents"), client.post("/api/ask", json={"question": "q"})):
        assert r.status_code == status and r.json()["exit_code"] == exit_code
        assert "/srv" not in r.text and "/tmp" not in r.text and "Traceback" not in r.text
    if status == 503:
        assert r.headers["retry-after"]


def test_an_unexpected_failure_is_a_500_without_a_trace(client, fake):
    fake.fail = KeyError("/srv/secret/path")
    r = client.get("/api/documents")
    assert r.status_code == 500 and r.json() == {"error": "the server failed to answer this request; it has been "
                                                           "logged", "exit_code": 1}


@pytest.mark.parametrize("body,where", [({}, "question: Field required"), ({"question": "q", "top_k": 0}, "top_k"),
                                        ({"question": "q", "top_k": "many"}, "top_k"), ([1], "body")])
def test_a_request_that_does_not_fit_is_422_json(client, body, where):
    r = client.post("/api/ask", json=body)
    assert r.status_code == 422 and where in r.json()["error"] and r.json()["exit_code"] == 2


def test_unknown_api_routes_and_methods_are_json(client):
    r = client.get("/api/nothing/here")
    assert r.status_code == 404 and r.json()["error"].startswith("no API route /api/nothing/here")
    r = client.get("/api/ask")
    assert r.status_code == 405 and "error" in r.json()


def test_openapi_and_docs_work_offline_under_the_page_policy(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/ask", "/api/clauses/{clause_id}", "/api/documents", "/api/documents/{key}", "/healthz"} <= set(spec["paths"])
    r = client.get("/docs")
    assert r.status_code == 200 and "/api/ask" in r.text and "/openapi.json" in r.text
    assert "<script" not in r.text and "cdn" not in r.text   # nothing to fetch, nothing the CSP must allow
    assert "default-src 'self'" in r.headers["content-security-policy"]


# ---- writes ------------------------------------------------------------------------------------------------

def test_writes_need_the_token(client, fake):
    doc = (FIXTURES / "guofa_2018_39_cujin_jiuye.txt").read_bytes()
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}):
        assert client.post("/api/documents?name=a.txt", content=doc, headers=headers).status_code == 401
        assert client.delete("/api/documents/k1", headers=headers).status_code == 401
    assert not hasattr(fake, "added")
    auth = {"authorization": f"Bearer {TOKEN}"}
    r = client.post("/api/documents?name=a.txt", content=doc, headers=auth)
    assert r.status_code == 201 and r.json()["added"] == ["k1"] and "/srv" not in r.text
    assert fake.added == [("a.txt", doc)]
    r = client.post("/api/documents", files={"file": ("b.txt", b"body")}, headers=auth)
    assert r.status_code == 201 and fake.added == [("b.txt", b"body")]
    assert client.post("/api/documents", content=b"x", headers=auth).status_code == 400   # no name
    assert client.delete("/api/documents/k1", headers=auth).json()["removed"] == "k1"


def test_without_admin_writes_are_refused_before_the_body(fake):
    with TestClient(served(fake, admin=False)) as c:
        r = c.post("/api/documents?name=a.txt", content=b"x" * 10, headers={"authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 403 and "--admin" in r.json()["error"]
        assert c.delete("/api/documents/k1").status_code == 403


# ---- the guard's limits on /api/* ---------------------------------------------------------------------------

def test_the_question_body_limit_applies_to_the_api():
    small = Limits(other_bytes=100)
    status, _, body, given = call(Guard(echo, limits=small), scope("/api/ask", headers=[("content-length", "5000")]))
    assert status == 413 and given == [] and "500 characters" in json.loads(body)["error"]
    status, _, _, _ = call(Guard(echo, limits=small), scope("/api/ask"), [b"x" * 60, b"x" * 60])
    assert status == 413


def test_an_upload_over_the_limit_is_refused_before_reading():
    g = Guard(echo, uploads=UploadRule(token=TOKEN, max_bytes=1000, suffixes=(".txt",)))
    status, _, _, given = call(g, scope("/api/documents", headers=[("content-length", "5000"),
                                                                   ("authorization", f"Bearer {TOKEN}")]))
    assert status == 413 and given == []


def test_questions_a_minute_per_client_on_the_api(client, fake):
    with TestClient(served(fake, limits=Limits(per_minute=3, in_flight=0, queued=0))) as c:
        codes = [c.post("/api/ask", json={"question": "q"}).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        r = c.post("/api/ask", json={"question": "q"})
        assert r.json()["error"].startswith("Too many questions") and int(r.headers["retry-after"]) >= 1
        assert c.get("/api/documents").status_code == 200   # reading is not a question


def test_questions_past_the_waiting_room_get_503_at_once(fake):
    fake.slow = 0.5
    app = served(fake, concurrency=1, queue_size=1)
    results = []

    async def run():
        import httpx
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            rs = await asyncio.gather(*(c.post("/api/ask", json={"question": f"q{i}"}) for i in range(4)))
            results.extend(r.status_code for r in rs)
    asyncio.run(run())
    assert sorted(results) == [200, 200, 503, 503]


# ---- the real page and index: the cache ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def real(index_dir, tmp_path_factory):
    import ui
    from assistant.serve.app import Assistant
    from assistant.serve.server import public_app
    work = tmp_path_factory.mktemp("api")
    index = Path(shutil.copytree(index_dir, work / "index"))
    app = Assistant.open(index, data_dir=work / "data")
    demo = ui.build_demo(index, app=app)
    asgi = public_app(demo, limits=Limits(per_minute=0, in_flight=0, queued=0), routes=lambda api: install(
        api, app, admin_token=TOKEN), uploads=UploadRule(token=TOKEN, max_bytes=1 << 20, suffixes=(".txt",)))
    with TestClient(asgi) as c:
        yield app, c


@pytest.mark.slow
def test_the_page_and_the_api_share_one_root_and_its_cache(real):
    app, c = real
    q = "秸秆综合利用率的目标是多少？"
    before = c.get("/healthz").json()["cache"]
    first = c.post("/api/ask", json={"question": q}).json()
    again = c.post("/api/ask", json={"question": f"  {q.replace('？', '?')} "}).json()
    after = c.get("/healthz").json()["cache"]
    assert first["found"] and again["answer"] == first["answer"] and again["citations"] == first["citations"]
    assert (after["hits"] - before["hits"], after["misses"] - before["misses"]) == (1, 1)
    assert c.get("/api/clauses/40-2.5.5").json()["citation"].startswith("《吉林省清洁土壤行动计划》")
    assert [d["from"] for d in c.get("/api/documents").json()["documents"]] == ["seed"] * 3
    # the page's first question of a conversation comes from the same root
    import ui
    page = ui.Page(app.live, app=app)
    chat, answers, *_ = page.respond(q, [], [], "zh", "all")
    assert answers[0].answer == first["answer"] and app.cache.stats().hits >= after["hits"]


@pytest.mark.slow
def test_an_added_document_is_answered_and_the_cache_is_dropped(real):
    app, c = real
    q = "高校毕业生就业创业有哪些支持？"
    c.post("/api/ask", json={"question": q})
    version = c.get("/healthz").json()["version"]
    name = "guofa_2018_39_cujin_jiuye.txt"
    r = c.post(f"/api/documents?name={name}", content=(FIXTURES / name).read_bytes(),
               headers={"authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 201, r.text
    health = c.get("/healthz").json()
    assert health["version"] != version and r.json()["version"] == health["version"]
    misses = health["cache"]["misses"]
    a = c.post("/api/ask", json={"question": q}).json()
    assert c.get("/healthz").json()["cache"]["misses"] == misses + 1   # not the answer of the old build
    assert a["found"] and "国发〔2018〕39号" in a["citations"][0]["citation"]
    key = r.json()["added"][0]
    assert c.delete(f"/api/documents/{key}", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert key not in [d["key"] for d in c.get("/api/documents").json()["documents"]]
