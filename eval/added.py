"""Questions on documents a user adds: the real government documents of tests/fixtures/documents, added to a copy
of the index, asked in Chinese and in English (these documents have no English renderings), scored by whether the
answer cites the provision holding the expected words (first, or among the first five) and whether it refuses.

    python eval/added.py [--index index/] [--work DIR] [--keep]

The questions were written by a person who read only the documents (expected.json); nothing here is fitted on them.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer.answerer import load_answerer  # noqa: E402
from assistant.ingest.corpus import DEFAULT_CORPUS_DIR  # noqa: E402
from assistant.search.index import DEFAULT_INDEX_DIR  # noqa: E402
from assistant.search.changes import add_documents  # noqa: E402
from assistant.runtime import start  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "documents"


def prepare(index_dir: Path, work: Path) -> tuple[Path, Path]:
    """A copy of the index with every fixture added (reused when `work` already holds it)."""
    data, index = work / "data", work / "index"
    if (data / "library.json").exists() and (index / "CURRENT").exists():
        return data, index
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copytree(index_dir, index)
    files = [(p.name, p.read_bytes()) for p in sorted(FIXTURES.iterdir()) if p.suffix in (".txt", ".html")]
    t0 = time.perf_counter()
    change = add_documents(files, corpus_dir=DEFAULT_CORPUS_DIR, data_dir=data, index_dir=index)
    print(f"added {len(files)} documents in {time.perf_counter() - t0:.1f} s: {change.outcome}", file=sys.stderr)
    return data, index


def score(answerer, expected: dict) -> dict:
    rows = []
    for name, want in sorted(expected.items()):
        for q in want["questions"]:
            a = answerer.ask(q["q"])
            texts = [c.text for c in a.citations]
            first = bool(a.found and texts and q["expected_snippet"] in texts[0])
            top5 = any(q["expected_snippet"] in t for t in texts[:5])
            rows.append({"file": name, "lang": q["lang"], "q": q["q"], "found": a.found, "kind": a.kind,
                         "hit1": first, "hit5": top5, "answer": a.answer[:80],
                         "cited": a.citations[0].citation if a.citations else ""})
    return rows


def summary(rows: list[dict], label: str) -> str:
    n = len(rows)
    if not n:
        return f"{label}: no questions"
    h1 = sum(r["hit1"] for r in rows) / n
    h5 = sum(r["hit5"] for r in rows) / n
    refused = sum(not r["found"] for r in rows)
    return f"{label:<8} n={n:<3} hit@1={h1:.2f} hit@5={h5:.2f} false_refusals={refused}/{n}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR)
    p.add_argument("--work", type=Path, default=None, help="folder for the data and index copy (default: a temp folder)")
    p.add_argument("--show", action="store_true", help="print every miss")
    args = p.parse_args()
    start()
    work = args.work or Path(tempfile.mkdtemp(prefix="added-eval-"))
    data, index = prepare(args.index, work)
    answerer = load_answerer(index, corpus_dir=DEFAULT_CORPUS_DIR, data_dir=data)
    expected = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
    rows = score(answerer, expected)
    for lang in ("zh", "en"):
        print(summary([r for r in rows if r["lang"] == lang], lang))
    print(summary(rows, "all"))
    if args.show:
        for r in rows:
            if not r["hit1"]:
                print(json.dumps(r, ensure_ascii=False))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
