"""Adding real documents end to end (slow: real models): `add` from the command line into a copy of the session
index, answered at once in Chinese and in English (these documents have no English renderings), listed,
removed; a bad file changes nothing."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "documents"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
# four layouts: a State Council opinion with 责任 parentheticals, a provincial order (a saved page), a city plan
# with 责任单位 lists, a regulation in chapters and articles
ADDED = ("guofa_2018_39_cujin_jiuye.txt", "yunnan_2024_231_kezhidu_huaxuepin.html",
         "shanghai_hufubanfa_2020_3_nongcun_gonglu.txt", "guofa_2018_41_zhuanxiang_kouchu.txt")


def cli(*args, check=True):
    out = subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, capture_output=True, text=True)
    if check and out.returncode:
        raise AssertionError(f"{args} exited {out.returncode}: {out.stderr[-2000:]}")
    return out


@pytest.fixture(scope="module")
def library(index_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("added")
    index = work / "index"
    shutil.copytree(index_dir, index)
    data = work / "data"
    out = cli("--data", str(data), "add", *(str(FIXTURES / n) for n in ADDED), "--index", str(index))
    assert "added" in out.stdout and "embedded" in out.stdout
    return data, index


def test_dry_run_prints_the_parse_as_json_and_changes_nothing(tmp_path, index_dir):
    out = cli("--data", str(tmp_path / "data"), "add", "--dry-run", "--json", str(FIXTURES / ADDED[1]),
              "--index", str(index_dir))
    [doc] = [json.loads(line) for line in out.stdout.splitlines()]
    assert (doc["doc_number"], doc["issuer"], doc["issue_date"]) == ("云南省人民政府令第231号", "云南省人民政府", "2024-09-19")
    assert doc["clauses"][1]["citation"].startswith("《云南省可制毒化学品管理规定》（云南省人民政府令第231号）")
    assert not (tmp_path / "data").exists()


def test_added_documents_are_listed_and_answered_at_once(library):
    data, index = library
    rows = [json.loads(line) for line in cli("--data", str(data), "documents", "--json").stdout.splitlines()]
    assert [r["from"] for r in rows] == ["seed"] * 3 + ["added"] * 4
    from assistant.answer.answerer import load_answerer
    from assistant.ingest.corpus import DEFAULT_CORPUS_DIR
    answerer = load_answerer(index, corpus_dir=DEFAULT_CORPUS_DIR, data_dir=data)
    for name in ADDED:
        first = {"zh": 0, "en": 0}
        for q in EXPECTED[name]["questions"]:
            a = answerer.ask(q["q"])
            assert a.found, (name, q["q"], a.answer)   # never refused: the documents answer every one
            first[q["lang"]] += bool(a.citations and q["expected_snippet"] in a.citations[0].text)
        assert first["zh"] >= 2 and first["en"] >= 1, (name, first)


def test_ask_cites_an_added_article(library):
    data, index = library
    out = cli("--data", str(data), "ask", "--json", "--index", str(index), "在省会城市租房，每个月房租能扣除多少？")
    a = json.loads(out.stdout)
    assert a["found"] and "每月1500元" in a["citations"][0]["text"]
    assert a["citations"][0]["citation"].startswith("《个人所得税专项附加扣除暂行办法》（国发〔2018〕41号）第十")
    out = cli("--data", str(data), "show", "国发〔2018〕41号 第十七条")   # by its own citation
    assert out.stdout.startswith("《个人所得税专项附加扣除暂行办法》（国发〔2018〕41号）第十七条")


def test_a_bad_file_changes_nothing_and_remove_works(library, tmp_path):
    data, index = library
    before = ((data / "library.json").read_bytes(), (index / "CURRENT").read_text())
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    out = cli("--data", str(data), "add", str(scan), "--index", str(index), check=False)
    assert out.returncode == 6 and "error:" in out.stderr and "Traceback" not in out.stderr
    assert ((data / "library.json").read_bytes(), (index / "CURRENT").read_text()) == before
    out = cli("--data", str(data), "remove", "231", "--index", str(index))
    assert "removed 231" in out.stdout
    rows = [json.loads(line) for line in cli("--data", str(data), "documents", "--json").stdout.splitlines()]
    assert "231" not in [r["key"] for r in rows]
    out = cli("--data", str(data), "ask", "--json", "--index", str(index), "云南的可制毒化学品管理规定从什么时候开始施行？")
    assert "云南省人民政府令" not in json.loads(out.stdout)["answer"]
