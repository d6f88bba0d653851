"""Load test of the page's /ask endpoint (gradio_client) or of the JSON API (--api: POST /api/ask), on 127.0.0.1
only; prints the figures.

    python -m assistant.tools.loadtest [--api] [--clients 50] [--seconds 60] [--think 0] [--burst 104]
                                 [--url http://127.0.0.1:PORT/ [--pid PID …]] [--questions eval/dev.jsonl]
                                 [--cache-size N]

Without --url it starts `ui.py` itself on a free loopback port (and stops it after), with the per-client limits
off: its clients all come from 127.0.0.1, where real visitors have an address each (a server started by hand
for --url needs `--client-in-flight 0 --client-queued 0 --client-per-minute 0` too). Phase 1: N clients
in closed loop for S seconds, each asking the questions of the file given (dev questions by default);
requests, errors, p50/p95 latency and the
server's memory before and after. Phase 2: a burst of more simultaneous requests than the queue holds;
the excess must get Gradio's "queue is full, try again" answer and no server error, and service must be
normal again within a few seconds. Bounded in count and time; it stops by itself.

The questions file is replayed in turn by every client, so questions repeat: the answer cache's hit rate (from
the server's /healthz, before and after) is printed with the rest; `--cache-size 0` starts the server without a
cache, for the figures of answering every question. With --url the server's CPU is read from /proc for the
processes given with --pid (e.g. nginx's workers and the replicas), else it is not known.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

from .bench import read_questions
from ..errors import AssistantError

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_QUESTIONS = ROOT / "eval" / "dev.jsonl"
BUSY_WORDS = ("queue is full", "too many", "busy", "try again")
BURST_QUESTION = "秸秆综合利用率的目标是多少？"
NO_CLIENT_LIMITS = ("--client-in-flight", "0", "--client-queued", "0", "--client-per-minute", "0")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def _cpu_s(pid: int | list[int] | None) -> float | None:
    """User + system CPU seconds a process (or several: their sum) has used so far (from /proc)."""
    if pid is None or pid == []:
        return None
    if isinstance(pid, list):
        return sum(_cpu_s(p) for p in pid)
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cache(url: str) -> dict | None:
    """The answer cache's counters from the server's /healthz (one replica's, behind a proxy)."""
    import json
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/healthz", timeout=10) as r:
            return json.loads(r.read())["cache"]
    except (OSError, ValueError, KeyError):
        return None


class ApiClient:
    """POST /api/ask over one kept-alive connection; a non-200 answer raises with its error text."""

    def __init__(self, url: str):
        import httpx
        self.url = url.rstrip("/") + "/api/ask"
        self.http = httpx.Client(timeout=60)

    def ask(self, question: str) -> dict:
        r = self.http.post(self.url, json={"question": question})
        if r.status_code != 200:
            raise RuntimeError(f"{r.status_code}: {r.text[:200]}")
        return r.json()


class ServerDidNotStart(RuntimeError):
    """ui.py exited or did not answer in time; the message ends with its last output."""


@contextmanager
def running_server(index: Path | None, *extra: str, timeout: float = 180,
                   env: dict | None = None) -> Iterator[tuple[subprocess.Popen, str]]:
    """`ui.py` on a free loopback port (`env`: its environment), serving: yields the process and its URL;
    stops it after."""
    port = _free_port()
    cmd = [sys.executable, "ui.py", "--host", "127.0.0.1", "--port", str(port), *extra]
    if index:
        cmd += ["--index", str(index)]
    url = f"http://127.0.0.1:{port}/"
    # the server's output goes to a file, not a pipe: a full pipe would stall the server
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
        try:
            _wait_until_serving(proc, url, log, timeout)
            yield proc, url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_until_serving(proc: subprocess.Popen, url: str, log, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if proc.poll() is not None:
                log.seek(0)
                raise ServerDidNotStart(f"ui.py exited before serving: {log.read()[-1500:]}") from None
            time.sleep(1)
    raise ServerDidNotStart(f"ui.py did not start within {timeout:.0f} s")


_TLS = None


def _client(url: str):
    """A gradio_client Client sharing one TLS context: gradio_client opens two fresh httpx clients per
    request and each would build its own from the CA bundle (~46 ms of CPU, measured) — on a plain-http
    loopback URL that only steals the server's cores."""
    import ssl
    from gradio_client import Client
    global _TLS
    _TLS = _TLS or ssl.create_default_context()
    return Client(url, verbose=False, ssl_verify=_TLS)


def _ask(client, question: str):
    """One question through the page's public endpoint, as a new visitor (empty chat, Chinese page), or through
    the JSON API. True when an answer came back."""
    if isinstance(client, ApiClient):
        return bool(client.ask(question).get("answer"))
    out = client.predict(question, [], "zh", "all", api_name="/ask")
    return bool(out and out[0] and out[0][-1]["role"] == "assistant")


def _connect(url: str, api: bool):
    return ApiClient(url) if api else _client(url)


def closed_loop(url: str, clients: int, seconds: float, *, questions: list[str], think: float = 0.0,
                api: bool = False) -> dict:
    """Each client asks, waits for the answer, pauses `think` s (±50%, a person reading), asks again."""
    import random
    lat: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.time() + seconds

    def worker(i: int):
        try:
            c = _connect(url, api)
        except Exception as e:  # noqa: BLE001 — counted and reported, the test goes on
            with lock:
                errors.append(f"connect: {e}")
            return
        k = i
        pause = random.Random(i)
        if think:  # people do not all arrive in the same second: spread the first questions over one pause
            time.sleep(pause.uniform(0, think))
        while time.time() < stop:
            q = questions[k % len(questions)]
            k += clients
            t = time.perf_counter()
            try:
                ok = _ask(c, q)
                with lock:
                    (lat.append(time.perf_counter() - t) if ok else errors.append("empty reply"))
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(str(e)[:120])
            if think:
                time.sleep(min(think * pause.uniform(0.5, 1.5), max(0.0, stop - time.time())))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    p50, p95 = (float(np.percentile(lat, p) * 1000) for p in (50, 95)) if lat else (float("nan"),) * 2
    return {"requests": len(lat) + len(errors), "ok": len(lat), "errors": len(errors), "p50_ms": p50,
            "p95_ms": p95, "error_samples": sorted(set(errors))[:3], "throughput_rps": len(lat) / seconds}


def burst(url: str, n: int, *, api: bool = False) -> dict:
    """n requests at the same moment from n clients; the queue holds fewer."""
    results: list[str] = []
    lock = threading.Lock()
    clients = [_connect(url, api) for _ in range(n)]
    barrier = threading.Barrier(n)

    def fire(c):
        barrier.wait()
        try:
            _ask(c, BURST_QUESTION)
            r = "ok"
        except Exception as e:  # noqa: BLE001
            msg = str(e).lower()
            r = "busy" if any(w in msg for w in BUSY_WORDS) else f"error: {str(e)[:100]}"
        with lock:
            results.append(r)

    threads = [threading.Thread(target=fire, args=(c,), daemon=True) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    t0 = time.time()
    recovered, last_error = None, ""
    c = _connect(url, api)
    while time.time() - t0 < 30:
        try:
            _ask(c, BURST_QUESTION)
            recovered = time.time() - t0
            break
        except Exception as e:  # noqa: BLE001 — still busy, or broken: the last one is reported
            last_error = f"{type(e).__name__}: {str(e)[:100]}"
            time.sleep(0.5)
    errors = [r for r in results if r.startswith("error")][:3]
    if recovered is None and last_error:
        errors.append(f"after the burst: {last_error}")
    return {"sent": n, "ok": results.count("ok"), "busy": results.count("busy"), "errors": errors,
            "recovered_after_s": recovered}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", help="a running page on 127.0.0.1, or nginx in front of replicas (default: start ui.py)")
    p.add_argument("--api", action="store_true", help="ask through the JSON API (POST /api/ask), not the page")
    p.add_argument("--pid", type=int, action="append", default=[],
                   help="with --url: a server process whose CPU is counted (repeatable: nginx, the replicas)")
    p.add_argument("--cache-size", type=int, default=None, help="the started server's answer cache (0: none)")
    p.add_argument("--index", type=Path, help="index for the started server")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--burst", type=int, default=0, help="burst size (default: queue size + 40)")
    p.add_argument("--think", type=float, default=0.0,
                   help="seconds each client pauses between questions (±50%%); 0 = back to back (stress)")
    p.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS,
                   help="JSON lines with a 'question' field, asked in turn (default eval/dev.jsonl)")
    args = p.parse_args(argv)
    if args.url and not args.url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise SystemExit("the load test only targets this machine's loopback address")
    if not 1 <= args.clients <= 200 or not 1 <= args.seconds <= 600 or not 0 <= args.think <= 60:
        raise SystemExit("clients must be 1–200, seconds 1–600 and think 0–60")
    try:
        questions = read_questions(args.questions)
    except AssistantError as e:
        raise SystemExit(str(e)) from e
    extra = NO_CLIENT_LIMITS + (("--cache-size", str(args.cache_size)) if args.cache_size is not None else ())
    server = nullcontext((None, args.url)) if args.url else running_server(args.index, *extra)
    try:
        with server as (proc, url):
            return _measure(url, [proc.pid] if proc else args.pid, args, questions)
    except ServerDidNotStart as e:
        raise SystemExit(f"{e}\nIs the index built? (make index)") from e


def _measure(url: str, pid: list[int], args, questions: list[str]) -> int:
    """Phase 1 and 2 against a serving page; prints the figures, returns the exit status."""
    from ui import QUEUE_SIZE
    import resource
    before, cpu0, cache0 = sum(map(_rss_mb, pid)) if pid else None, _cpu_s(pid), _cache(url)
    own0 = resource.getrusage(resource.RUSAGE_SELF)
    r = closed_loop(url, args.clients, args.seconds, questions=questions, think=args.think, api=args.api)
    after, cpu1, cache1 = sum(map(_rss_mb, pid)) if pid else None, _cpu_s(pid), _cache(url)
    own1 = resource.getrusage(resource.RUSAGE_SELF)
    harness = (own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime) * 1000 / max(r["requests"], 1)
    pace = f", pausing ~{args.think:g} s between questions" if args.think else ", back to back"
    how = "JSON API (POST /api/ask)" if args.api else "page (gradio_client /ask)"
    print(f"== load: {args.clients} clients × {args.seconds:.0f} s, {how}, on {url}{pace}; "
          f"{len(questions)} questions replayed in turn")
    print(f"requests {r['requests']}, ok {r['ok']}, errors {r['errors']} [target 0], "
          f"answers/s {r['throughput_rps']:.1f}")
    print(f"latency p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms [p95 ≤1000 ms]")
    if cache0 and cache1:
        hits, misses = cache1["hits"] - cache0["hits"], cache1["misses"] - cache0["misses"]
        rate = hits / (hits + misses) if hits + misses else 0.0
        print(f"answer cache: {hits} hits, {misses} misses, hit rate {rate:.1%} (capacity {cache1['capacity']}"
              f"{'; one replica' + chr(39) + 's /healthz' if args.url and len(pid) != 1 else ''})")
    if before is not None:
        print(f"server RSS before {before:.0f} MB, after {after:.0f} MB")
        server = (cpu1 - cpu0) * 1000 / max(r["requests"], 1)
        print(f"CPU per request: server {server:.0f} ms, this load generator {harness:.0f} ms "
              f"(both share the machine's {os.cpu_count()} cores)")
    if r["error_samples"]:
        print("error samples:", r["error_samples"])
    b = burst(url, args.burst or QUEUE_SIZE + 40, api=args.api)
    print(f"== burst: {b['sent']} simultaneous requests, queue size {QUEUE_SIZE}: ok {b['ok']}, "
          f"busy (\"queue is full\" / 503, try again) {b['busy']}, server errors {len(b['errors'])}")
    print(f"service normal again after {b['recovered_after_s']:.1f} s" if b["recovered_after_s"] is not None
          else "service did NOT recover within 30 s")
    if b["errors"]:
        print("error samples:", b["errors"])
    return 0 if r["errors"] == 0 and not b["errors"] and b["recovered_after_s"] is not None else 1


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
