"""`python -m assistant bench` — speed, memory and scale figures, printed (targets beside them).

Measures, in one run: index build time from scratch; cold start to first answer (a fresh process);
warm `ask` p50/p95 over the questions of the file it is given (`--questions`, default eval/dev.jsonl)
next to the raw e5 query-encode p50; the answer cache on a replay of those questions, each asked several times
in a shuffled order (hit rate, latency of hits and of misses); peak RSS of a serving process; and a scale curve of the FAISS
index chosen by size on synthetic clustered vectors of the encoders' dimensions (build time, search
p50, recall@10 against exact search).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..errors import DataError

ROOT = Path(__file__).resolve().parent.parent.parent


def read_questions(path: Path) -> list[str]:
    """The questions of a JSON-lines file (one object with a "question" field per line), read when asked."""
    try:
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        questions = [r["question"] for r in rows]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"cannot read questions from {path} ({type(e).__name__}: {e}); give a JSON-lines file "
                        'with one {"question": …} object per line (eval/dev.jsonl is one)') from e
    if not questions:
        raise DataError(f"{path} holds no questions; give a JSON-lines file with one {{\"question\": …}} per line")
    return questions


def _pcts(xs: list[float]) -> tuple[float, float]:
    return float(np.percentile(xs, 50) * 1000), float(np.percentile(xs, 95) * 1000)


def serving_probe(index_dir: str, corpus_dir: str, questions_path: str) -> None:
    """Run in a fresh process: load, answer the first question (time from process start), answer the
    rest, print one JSON line with the timings and the peak RSS."""
    t_first = None
    from ..answer.answerer import load_answerer
    answerer = load_answerer(Path(index_dir), corpus_dir=Path(corpus_dir))
    questions = read_questions(Path(questions_path))
    answerer.ask(questions[0])
    t_first = time.time()
    for q in questions:
        answerer.ask(q)
    # VmHWM, not getrusage's ru_maxrss: Linux carries the forking parent's size into the child's
    # ru_maxrss, and the parent here (the bench, with torch and a fresh build) is the bigger process
    hwm_kb = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                  if line.startswith("VmHWM:"))
    print(json.dumps({"first_answer_at": t_first, "peak_rss_mb": hwm_kb / 1024}))


def cold_start(index_dir: Path, corpus_dir: Path, questions: Path) -> dict:
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", "import sys; from assistant.tools.bench import serving_probe; "
                                                "serving_probe(*sys.argv[1:4])", str(index_dir), str(corpus_dir),
                          str(Path(questions).resolve())],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    return {"cold_start_s": probe["first_answer_at"] - t0, "peak_rss_mb": probe["peak_rss_mb"]}


def warm_latency(answerer, questions: list[str], rounds: int = 3) -> dict:
    e5 = answerer.retriever.encoders["e5"]
    for q in questions[:5]:
        answerer.ask(q)
    enc, ask = [], []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            e5.encode_queries([q])
            enc.append(time.perf_counter() - t)
            t = time.perf_counter()
            answerer.ask(q)
            ask.append(time.perf_counter() - t)
    (e50, e95), (a50, a95) = _pcts(enc), _pcts(ask)
    return {"encode_p50_ms": e50, "encode_p95_ms": e95, "ask_p50_ms": a50, "ask_p95_ms": a95}


def cache_replay(answerer, questions: list[str], *, repeats: int = 5, seed: int = 0) -> dict:
    """Every question `repeats` times in a shuffled order through an empty answer cache (cache.AnswerCache), as
    the API and the page's first questions are answered: the hit rate and the latency of hits and misses."""
    import random
    from ..serve.cache import AnswerCache
    cache, version = AnswerCache(), answerer.retriever.index.version
    replay = questions * repeats
    random.Random(seed).shuffle(replay)
    times: dict[bool, list[float]] = {True: [], False: []}
    for q in replay:
        hits = cache.hits
        t = time.perf_counter()
        cache.get_or_answer(q, version, lambda q=q: answerer.ask(q))
        times[cache.hits > hits].append(time.perf_counter() - t)
    s = cache.stats()
    hit50, hit95 = _pcts(times[True]) if times[True] else (float("nan"),) * 2
    miss50, miss95 = _pcts(times[False]) if times[False] else (float("nan"),) * 2
    return {"asked": len(replay), "hits": s.hits, "misses": s.misses, "hit_rate": s.hit_rate,
            "hit_p50_ms": hit50, "hit_p95_ms": hit95, "miss_p50_ms": miss50, "miss_p95_ms": miss95}


def synthetic(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Clustered unit vectors: texts form topics, so embeddings are not uniform on the sphere."""
    centers = rng.normal(size=(max(8, n // 500), dim)).astype(np.float32)
    x = np.empty((n, dim), dtype=np.float32)
    for i in range(0, n, 100_000):  # in blocks: keeps peak memory near the final array
        m = min(100_000, n - i)
        x[i:i + m] = centers[rng.integers(0, len(centers), m)] + 0.6 * rng.normal(size=(m, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def scale_point(n: int, dim: int, *, queries: int = 200) -> dict:
    import faiss

    from ..search.index import make_faiss
    rng = np.random.default_rng(n + dim)
    x = synthetic(n, dim, rng)
    q = x[rng.integers(0, n, queries)] + 0.05 * rng.normal(size=(queries, dim)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    exact = faiss.IndexFlatIP(dim)
    exact.add(x)
    _, truth = exact.search(q, 10)
    del exact
    t = time.perf_counter()
    index = make_faiss(x)
    build = time.perf_counter() - t
    times = []
    for i in range(queries):
        t = time.perf_counter()
        index.search(q[i:i + 1], 10)
        times.append(time.perf_counter() - t)
    _, got = index.search(q, 10)
    recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, truth)]))
    return {"n": n, "dim": dim, "type": type(index).__name__, "build_s": build,
            "search_p50_ms": _pcts(times)[0], "recall_at_10": recall}


ADD_FIXTURES = ("guobanfa_2018_128_wufei_chengshi.txt", "shanghai_hufuling_85_tingchechang.txt")  # 14,707 characters


def add_timing(index_dir: Path, corpus_dir: Path) -> dict:
    """Time adding two real documents (14,707 characters: a plan and a regulation) to a copy of the live index, with the models loaded
    as in a running server: read, parse, embed only the new passages, rebuild BM25 and the vocabulary, commit."""
    import shutil
    from ..search.index import live_folder
    from ..search.changes import add_documents
    from ..ingest.readers import read_bytes
    folder = ROOT / "tests" / "fixtures" / "documents"
    files = [(name, (folder / name).read_bytes()) for name in ADD_FIXTURES]
    chars = sum(len(p) for name, data in files for p in read_bytes(data, name).paragraphs)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "index"
        copy.mkdir()
        live = live_folder(index_dir)
        shutil.copytree(live, copy / live.name)
        (copy / "CURRENT").write_text(live.name, encoding="utf-8")
        from ..search.encoders import for_manifest as encoders_for
        for enc in encoders_for(json.loads((live / "manifest.json").read_text(encoding="utf-8"))).values():
            enc.prepare_passages()   # as a server taking documents does at start (ui.py --admin)
        t = time.perf_counter()
        change = add_documents(files, corpus_dir=corpus_dir, data_dir=Path(tmp) / "data", index_dir=copy)
        seconds = time.perf_counter() - t
        manifest = json.loads((live_folder(copy) / "manifest.json").read_text(encoding="utf-8"))
    embedded = max(e["embedded"] for e in manifest["encoders"])
    return {"chars": chars, "documents": len(files), "passages": embedded, "seconds": seconds,
            "outcome": change.outcome.split(" — ", 1)[-1]}


def run(*, index_dir: Path, corpus_dir: Path, sizes: list[int], full: bool = True,
        questions: Path = ROOT / "eval" / "dev.jsonl") -> None:
    """Print the figures. `questions`: the JSON-lines file whose questions are timed (read here, first)."""
    from ..answer.answerer import Answerer
    from ..search.encoders import for_manifest as encoders_for
    from ..ingest.catalog import Catalog
    from ..ingest.glossary import load_renderings
    from ..search.index import build_index, load_index
    from ..search.retrieval import Retriever

    print("== policy assistant bench (2 cores; targets in brackets)")
    if full:
        asked = read_questions(questions)
        t = time.perf_counter()
        index = load_index(index_dir, corpus_dir=corpus_dir)
        encoders = encoders_for(index.manifest)
        print(f"model + index load: {time.perf_counter() - t:.1f} s")
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            build_index(Catalog.load(corpus_dir), encoders, Path(tmp), corpus_dir=corpus_dir,
                        english=load_renderings())
            print(f"index build from scratch: {time.perf_counter() - t:.1f} s "
                  f"({index.manifest['counts']['passages']} passages × {len(encoders)} encoders + BM25)")
        add = add_timing(index_dir, corpus_dir)
        print(f"add {add['chars']} characters ({add['documents']} documents, {add['passages']} new passages): "
              f"{add['seconds']:.1f} s in a running process [15,000 characters ≤20 s]; {add['outcome']}")
        cs = cold_start(index_dir, corpus_dir, questions)
        print(f"cold start to first answer: {cs['cold_start_s']:.1f} s (new process: imports, models, index)")
        answerer = Answerer(Retriever(index, encoders))
        lat = warm_latency(answerer, asked)
        ratio = lat["ask_p50_ms"] / lat["encode_p50_ms"]
        print(f"e5 query encode: p50 {lat['encode_p50_ms']:.1f} ms, p95 {lat['encode_p95_ms']:.1f} ms")
        print(f"warm ask: p50 {lat['ask_p50_ms']:.1f} ms, p95 {lat['ask_p95_ms']:.1f} ms "
              f"= {ratio:.2f}× encode p50 [≤1.5×]")
        rep = cache_replay(answerer, asked)   # warm: its misses cost what a warm ask does
        print(f"answer cache, {rep['asked']} questions ({len(asked)} distinct, shuffled): hit rate {rep['hit_rate']:.1%}; "
              f"hits p50 {rep['hit_p50_ms']:.3f} ms, p95 {rep['hit_p95_ms']:.3f} ms; misses p50 {rep['miss_p50_ms']:.1f} ms, "
              f"p95 {rep['miss_p95_ms']:.1f} ms")
        print(f"peak RSS serving: {cs['peak_rss_mb']:.0f} MB [≤1536 MB]")
    print("scale curve (synthetic clustered vectors; exact ≤50k, IVF above) [1M: p50 ≤20 ms, recall@10 ≥0.95]:")
    print(f"  {'n':>9} {'dim':>4} {'index':<14} {'build s':>8} {'p50 ms':>7} {'recall@10':>9}")
    for n in sizes:
        for dim in (384, 512):
            r = scale_point(n, dim)
            print(f"  {r['n']:>9} {r['dim']:>4} {r['type']:<14} {r['build_s']:>8.1f} {r['search_p50_ms']:>7.2f} "
                  f"{r['recall_at_10']:>9.3f}", flush=True)
