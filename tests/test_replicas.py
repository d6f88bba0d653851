"""Two replicas of the page and API on one PostgreSQL, behind nginx run from deploy/nginx.conf — all started
here on loopback ports in a temporary folder, every wait bounded, everything stopped after.

Questions through nginx answer; a document added through one replica is answered by the other within seconds;
killing a replica (SIGKILL) while clients ask through nginx fails no request and loses no data.
Needs Debian's nginx (`make server-deps`); without it the test fails and says so.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from assistant.tools.loadtest import NO_CLIENT_LIMITS, _free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TOKEN = "replica-test-token-0123456789"
ADDED = Path(__file__).parent / "fixtures" / "documents" / "guofa_2018_39_cujin_jiuye.txt"
QUESTION = "秸秆综合利用率的目标是多少？"
ADDED_QUESTION = "高校毕业生就业创业有哪些支持？"
START_SECONDS, NOTICE_SECONDS = 240, 30


def _wait(what: str, check, seconds: float, procs=()):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for p, log in procs:
            if p.poll() is not None:
                raise AssertionError(f"{what}: a process exited ({p.args[:3]}…): {Path(log).read_text()[-1500:]}")
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {seconds:.0f} s")


def nginx_config(ports: list[int], listen: int, tmp: Path) -> str:
    """deploy/nginx.conf with the replicas' ports, a loopback listen port and logs and temp files in `tmp`."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = iter(ports * 2)   # two upstreams, the same replicas
    text = re.sub(r"server 127\.0\.0\.1:786\d", lambda m: f"server 127.0.0.1:{next(servers)}", text)
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{listen};")
    text = re.sub(r"error_log \S+", f"error_log {tmp}/error.log", text)
    temp = "".join(f"    {k}_temp_path {tmp}/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return text.replace("http {\n", "http {\n" + temp, 1)


@pytest.fixture(scope="module")
def cluster(index_dir, tmp_path_factory):
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed: run `make server-deps` (apt-get install -y nginx) — the replica test "
                    "starts Debian's nginx in front of two replicas")
    import pgserver
    import psycopg
    tmp = tmp_path_factory.mktemp("replicas")
    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="delete")
    procs: list[tuple[subprocess.Popen, Path]] = []
    try:
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE replicas")
        url = server.get_uri("replicas")
        subprocess.run([sys.executable, "-m", "assistant", "build", "--store", url, "--reuse-from", str(index_dir)],
                       cwd=ROOT, check=True, capture_output=True, timeout=600)   # vectors copied, none embedded
        env = dict(os.environ, ASSISTANT_ADMIN_TOKEN=TOKEN, TMPDIR=str(tmp), GRADIO_TEMP_DIR=str(tmp / "gradio"))
        ports = [_free_port(), _free_port()]
        for name, port in zip("ab", ports):
            log = tmp / f"replica-{name}.log"
            procs.append((subprocess.Popen(
                [sys.executable, "ui.py", "--host", "127.0.0.1", "--port", str(port), "--store", url, "--admin",
                 "--trusted-proxy", "127.0.0.1", *NO_CLIENT_LIMITS], cwd=ROOT, env=env,
                stdout=log.open("w"), stderr=subprocess.STDOUT), log))
        listen = _free_port()
        (tmp / "nginx.conf").write_text(nginx_config(ports, listen, tmp))
        nginx_log = tmp / "nginx.out"
        procs.append((subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log"),
                                        "-g", f"daemon off; pid {tmp}/nginx.pid;"],
                                       stdout=nginx_log.open("w"), stderr=subprocess.STDOUT), nginx_log))
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        for u in urls:
            _wait(f"replica {u}", lambda u=u: httpx.get(f"{u}/healthz", timeout=5).status_code == 200,
                  START_SECONDS, procs)
        yield {"a": urls[0], "b": urls[1], "nginx": f"http://127.0.0.1:{listen}", "procs": procs, "tmp": tmp}
    finally:
        for p, _ in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p, _ in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        server.cleanup()


def ask(base: str, question: str, timeout: float = 30) -> dict:
    r = httpx.post(f"{base}/api/ask", json={"question": question}, timeout=timeout)
    r.raise_for_status()
    return r.json()


def test_questions_through_nginx_answer(cluster):
    a = ask(cluster["nginx"], QUESTION)
    assert a["found"] and "85%" in a["answer"]
    versions = {httpx.get(f"{cluster[r]}/healthz", timeout=5).json()["version"] for r in "ab"}
    assert len(versions) == 1   # one database, one live build
    assert httpx.get(f"{cluster['nginx']}/", timeout=30).status_code == 200   # the page, too
    assert httpx.get(f"{cluster['nginx']}/openapi.json", timeout=10).json()["paths"]["/api/ask"]


def test_a_document_added_through_one_replica_is_answered_by_the_other(cluster):
    before = ask(cluster["b"], ADDED_QUESTION)
    assert not (before["found"] and "国发〔2018〕39号" in before["citations"][0]["citation"])
    r = httpx.post(f"{cluster['a']}/api/documents?name={ADDED.name}", content=ADDED.read_bytes(),
                   headers={"authorization": f"Bearer {TOKEN}"}, timeout=300)
    assert r.status_code == 201, r.text
    added_at = time.monotonic()

    def b_answers():
        a = ask(cluster["b"], ADDED_QUESTION)
        return a["found"] and "国发〔2018〕39号" in a["citations"][0]["citation"]
    _wait("replica b answering from the added document", b_answers, NOTICE_SECONDS)
    print(f"replica b answered from the added document {time.monotonic() - added_at:.1f} s after the add")
    assert httpx.get(f"{cluster['b']}/healthz", timeout=5).json()["version"] == r.json()["version"]


def test_killing_a_replica_under_load_loses_no_request_and_no_data(cluster):
    results: list[str] = []
    stop = time.monotonic() + 15
    lock = threading.Lock()

    def client(i):
        with httpx.Client(timeout=30) as c:
            k = i
            while time.monotonic() < stop:
                q = (QUESTION, ADDED_QUESTION, "生态环境损害赔偿权利人是谁？", "Which agency leads mine restoration?")[k % 4]
                k += 1
                try:
                    r = c.post(f"{cluster['nginx']}/api/ask", json={"question": q})
                    out = "ok" if r.status_code == 200 and r.json()["answer"] else f"{r.status_code}: {r.text[:100]}"
                except httpx.HTTPError as e:
                    out = f"{type(e).__name__}: {e}"
                with lock:
                    results.append(out)
    threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    time.sleep(4)
    killed_after = len(results)
    a = cluster["procs"][0][0]
    os.kill(a.pid, signal.SIGKILL)
    for t in threads:
        t.join(timeout=60)
    failed = [r for r in results if r != "ok"]
    log = (cluster["tmp"] / "error.log").read_text(errors="replace")
    retried = sum(1 for line in log.splitlines() if "while reading response header from upstream" in line
                  or "connect() failed" in line)
    print(f"{len(results)} questions through nginx, {killed_after} before the kill, {len(failed)} failed; "
          f"nginx logged {retried} upstream failures it passed to the other replica")
    assert killed_after > 0 and len(results) > killed_after + 10, (killed_after, len(results))
    assert failed == [], failed[:5]
    assert a.wait(timeout=10) == -signal.SIGKILL
    # nothing lost: the other replica (and nginx, through it) still lists and answers the added document
    docs = httpx.get(f"{cluster['nginx']}/api/documents", timeout=10).json()["documents"]
    assert [d["from"] for d in docs].count("added") == 1
    assert "国发〔2018〕39号" in ask(cluster["nginx"], ADDED_QUESTION)["citations"][0]["citation"]
