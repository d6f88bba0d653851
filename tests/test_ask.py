"""End to end with the real models: build an index, ask, score (slow)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("index")
    subprocess.run([sys.executable, "-m", "assistant", "build", "--index", str(out)], check=True, cwd=ROOT,
                   capture_output=True)
    return out


@pytest.fixture(scope="session")
def answerer(index_dir):
    from assistant.answer import load_answerer
    from assistant.corpus import DEFAULT_CORPUS_DIR
    return load_answerer(index_dir, corpus_dir=DEFAULT_CORPUS_DIR)


@pytest.mark.parametrize("q, cid, answer_has", [
    ("矿山土壤生态环境恢复治理由哪个部门牵头？", "40-2.3", "省国土资源厅牵头（省环保厅、省林业厅、省住房城乡建设厅参与）"),
    ("Which agency leads mine restoration?", "40-2.3", "Provincial Department of Land and Resources"),
    ("秸秆综合利用率的目标是多少？", "40-2.5.5", "85%"),
    ("What is the straw target?", "40-2.5.5", "85%"),
])
def test_the_two_examples_in_both_languages(answerer, q, cid, answer_has):
    a = answerer.ask(q)
    assert a.found and a.citations[0].clause_id == cid
    assert answer_has in a.answer
    c = a.citations[0]
    assert c.citation.startswith("《吉林省清洁土壤行动计划》（吉政发〔2016〕40号）第二部分")
    s, e = c.span
    assert 0 <= s < e <= len(c.text)


def test_batch_json_one_line_per_input_in_order(index_dir):
    qs = ["What is the straw target?", "", "   ", "长春地铁票价怎么定的？", "41号 第17条"]
    p = subprocess.run([sys.executable, "-m", "assistant", "ask", "--json", "--batch", "-", "--index", str(index_dir)],
                       input="\n".join(qs) + "\n", capture_output=True, text=True, cwd=ROOT, check=True)
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert [r["question"] for r in rows] == qs
    assert rows[0]["found"] and not rows[1]["found"] and not rows[3]["found"]
    assert rows[4]["citations"][0]["clause_id"] == "41-2.4.17"
    for r in rows:
        assert set(r) >= {"question", "found", "answer", "citations"}


def test_dev_set_targets(index_dir):
    cmd = f"{sys.executable} -m assistant ask --json --batch - --index {index_dir}"
    p = subprocess.run([sys.executable, "eval/score.py", "eval/dev.jsonl", "--cmd", cmd,
                        "--min-hit1", "0.95", "--min-hit5", "1.0", "--min-mrr", "0.96",
                        "--max-false-refuse", "0", "--min-refuse", "1.0"],
                       capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr[-2000:]
