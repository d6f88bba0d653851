"""Real government documents of other issuers and layouts, read and parsed (tests/fixtures/documents: where each
came from is in SOURCES.md, what a correct parse holds in expected.json, written from the texts by a person who
had not seen the parser); the library that keeps added documents. Fast: no models."""
import json
import re
from pathlib import Path

import pytest

from assistant.ingest.catalog import Catalog
from assistant.ingest.corpus import load_documents
from assistant.errors import BadDocument, DataError, UnknownClause
from assistant.ingest.library import Library, parse_reading
from assistant.ingest.readers import read_bytes, read_path

FIXTURES = Path(__file__).parent / "fixtures" / "documents"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
NAMES = sorted(EXPECTED)
UNIT_WORDS = ("牵头", "负责", "责任单位", "牵头单位", "配合单位", "责任部门", "指导")


@pytest.fixture(scope="module")
def parsed():
    out = {}
    for name in NAMES:
        doc = parse_reading(read_path(FIXTURES / name))
        out[name] = (doc, Catalog.from_documents([doc]))
    return out


def test_at_least_eight_real_documents_of_different_issuers():
    issuers = {e["issuer"] for e in EXPECTED.values()}
    assert len(NAMES) >= 8 and len(issuers) >= 5
    sources = (FIXTURES / "SOURCES.md").read_text(encoding="utf-8")
    assert all(name in sources for name in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_facts_number_title_issuer_date(parsed, name):
    doc, _ = parsed[name]
    want = EXPECTED[name]
    assert (doc.doc_number, doc.title, doc.issuer, doc.issue_date) == \
        (want["doc_number"], want["title"], want["issuer"], want["date"])
    assert list(doc.addressees) == want["addressees"]
    assert list(doc.attachments) == want["attachments"]
    # inferred is said when the issuer was not read from the document (its title, signature, order, note)
    assert doc.issuer_inferred == (want["issuer_from"] == "number prefix")


@pytest.mark.parametrize("name", NAMES)
def test_clauses_are_verbatim_and_cover_the_body(parsed, name):
    doc, cat = parsed[name]
    paragraphs = set(read_path(FIXTURES / name).paragraphs)
    body = [c for c in cat.clauses if c.level != "notice"]
    assert len(body) >= 5
    for c in cat.clauses:
        assert doc.text[c.start:c.end] == c.text
    for c in body:  # (the notice's first line is its title lines joined)
        assert all(line in paragraphs for line in c.text.split("\n")), c.clause_id
        assert c.citation.startswith(doc.cited_as) or c.level == "notice"
    assert "\n".join(c.text for c in body) == doc.body
    firsts = [c.text.split("\n")[0] for c in body]
    for heading in EXPECTED[name]["top_headings"]:
        assert any(f.startswith(heading) for f in firsts), heading


@pytest.mark.parametrize("name", NAMES)
def test_every_responsibility_parenthetical_is_read(parsed, name):
    _, cat = parsed[name]
    want = EXPECTED[name]
    records = [r for c in cat.clauses for r in cat.records_of(c.clause_id).responsibilities]
    # the expected count was made by hand from the text; one parenthetical that is a whole instruction
    # (生态环境部指导，试点城市政府负责落实。以下均需试点城市政府落实，不再列出) is not a list of units
    assert want["responsibility_parentheticals"] - 1 <= len(records) <= want["responsibility_parentheticals"]
    sample = want["sample_responsibility"]
    if sample["text"]:
        [r] = [r for r in records if r.raw == sample["text"].strip("（）()")]
        if sample["lead"]:
            assert [u.name for u in r.lead] == sample["lead"]
        assert {u.name for u in r.units} == set(sample["lead"] + sample["participants"])


def test_first_named_leads_when_the_document_says_so(parsed):
    _, cat = parsed["guofa_2019_3_zonghe_baoshuiqu.html"]
    records = [r for c in cat.clauses for r in cat.records_of(c.clause_id).responsibilities]
    assert all(r.lead for r in records)
    assert any(u.name == "海关总署" for r in records for u in r.lead)


def test_layouts(parsed):
    kinds = {name: {c.level for c in cat.clauses} for name, (_, cat) in parsed.items()}
    assert {"chapter", "article"} <= kinds["guofa_2018_41_zhuanxiang_kouchu.txt"]
    assert "article" in kinds["yunnan_2024_231_kezhidu_huaxuepin.html"]       # an order without chapters
    assert "measure" in kinds["guofa_2019_3_zonghe_baoshuiqu.html"]          # 1.–21. run through the parts
    assert "attachment" in kinds["guobanfa_2019_4_sanji_yiyuan_kaohe.txt"]   # printed after the signature
    _, cat = parsed["guofa_2018_41_zhuanxiang_kouchu.txt"]
    art = cat.find("国发〔2018〕41号 第五条")
    assert art.local_citation == "第五条" and art.text.startswith("第五条")
    assert cat.find("国发〔2018〕41号 第二章第五条") == art
    assert cat.find("41号 第5条") == art


def test_unknown_layout_degrades_to_numbered_paragraphs():
    text = ("关于做好春季植树工作的通知\n各区林业部门：\n" + "\n".join(
        f"今年春季植树要抓好第{i}个环节，落实责任，确保质量，按时完成任务。" for i in range(1, 5)) + "\n2020年3月1日")
    doc = parse_reading(read_bytes(text.encode(), "plain.txt"))
    cat = Catalog.from_documents([doc])
    paras = [c for c in cat.clauses if c.level == "para"]
    assert [c.local_citation for c in paras] == ["第1段", "第2段", "第3段", "第4段"]
    assert doc.doc_number == "" and doc.cited_as == "《关于做好春季植树工作的通知》（2020年3月1日）"
    assert paras[0].citation == "《关于做好春季植树工作的通知》（2020年3月1日）第1段"


@pytest.mark.parametrize("body, lead, others", [
    ("（5月底前完成，牵头考核单位：市统计局）", ["市统计局"], []),
    ("（牵头单位：长春海关；配合单位：人民银行长春中心支行、市商务局）", ["长春海关"], ["人民银行长春中心支行", "市商务局"]),
    ("（责任单位：市住房城乡建设局、市财政局）", [], ["市住房城乡建设局", "市财政局"]),
    ("（省商务厅牵头，长春海关、人民银行长春中心支行配合）", ["省商务厅"], ["长春海关", "人民银行长春中心支行"]),
])
def test_responsibility_forms_in_use(body, lead, others):
    from assistant.ingest.records import parse_parenthetical
    roles, _ = parse_parenthetical(body.strip("（）"))
    assert [u.name for u in roles["lead"]] == lead
    assert [u.name for u in roles["participants"] + roles["responsible"]] == others


def test_circled_items_and_boxes_are_provisions():
    text = ("某市人民政府办公室关于印发某市数字政府建设方案的通知\n某府办发〔2021〕9号\n各区政府：\n"
            "现将《某市数字政府建设方案》印发给你们，请认真贯彻执行。\n某市人民政府办公室\n2021年5月6日\n"
            "某市数字政府建设方案\n为加快数字政府建设，制定本方案。\n一、重点任务\n（一）建设政务云。统筹建设全市政务云平台。\n"
            "①整合机房资源。2021年底前完成。\n②迁移业务系统。（市大数据局牵头，各区政府配合）\n"
            "专栏1 数字政府重点工程\n1.政务云扩容工程。\n2.数据共享交换工程。\n（二）推进数据共享。建立数据目录。")
    cat = Catalog.from_documents([parse_reading(read_bytes(text.encode(), "x.txt"))])
    by_cite = {c.local_citation: c for c in cat.clauses}
    assert by_cite["第一部分第（一）项②"].text.startswith("②迁移业务系统")
    assert "第一部分第（一）项专栏1" in by_cite
    [r] = cat.records_of(by_cite["第一部分第（一）项②"].clause_id).responsibilities
    assert [u.name for u in r.lead] == ["市大数据局"]


# ---- the library -------------------------------------------------------------------------------

def _plan_and_commit(lib, names, **kw):
    files = [(n, (FIXTURES / n).read_bytes()) for n in names]
    plan = lib.plan(files, existing=load_documents() + lib.documents(), **kw)
    plan.commit()
    return plan


def test_library_add_keeps_originals_and_keys(tmp_path):
    lib = Library(tmp_path / "data")
    plan = _plan_and_commit(lib, ["guofa_2018_39_cujin_jiuye.txt", "guobanfa_2019_4_sanji_yiyuan_kaohe.txt"])
    assert [e.key for e in lib.entries()] == ["39", "4"]
    for e, data, _ in plan.added:
        assert (lib.dir / e.file).read_bytes() == data  # byte for byte
    assert [d.doc_number for d in lib.documents()] == ["国发〔2018〕39号", "国办发〔2019〕4号"]
    cat = Catalog.load(data_dir=lib.dir)
    assert [d.key for d in cat.documents] == ["40", "41", "42", "39", "4"]


def test_a_taken_serial_gets_a_qualified_key(tmp_path):
    lib = Library(tmp_path / "data")
    text = (FIXTURES / "guofa_2018_39_cujin_jiuye.txt").read_text(encoding="utf-8").replace("国发〔2018〕39号",
                                                                                         "国发〔2018〕40号")
    plan = lib.plan([("forty.txt", text.encode())], existing=load_documents())
    [(entry, _, doc)] = plan.added
    assert entry.key == doc.key == "国发2018n40" and "-" not in entry.key


def test_duplicates_and_bad_files_change_nothing(tmp_path):
    lib = Library(tmp_path / "data")
    _plan_and_commit(lib, ["guofa_2018_39_cujin_jiuye.txt"])
    before = lib.list_path.read_bytes()
    same = (FIXTURES / "guofa_2018_39_cujin_jiuye.txt").read_bytes()
    cases = [
        ("again.txt", same, "already in the library"),
        ("newer.txt", same + "\n".encode(), "already present as document 39"),
        ("empty.txt", b"", "empty"),
        ("x.bin", bytes(range(256)) * 40, "not recognised"),
        ("note.txt", "今天天气很好。".encode(), "not the text of a Chinese official document"),
        ("seed.txt", (Path(__file__).parent.parent / "corpus" / "000_084d63c18fb0a30d.txt").read_bytes()[:0] +
         "吉林省人民政府关于印发吉林省清洁土壤行动计划的通知\n吉政发〔2016〕40号\n各市(州)人民政府：\n现将计划印发给你们。\n"
         "2016年11月28日\n吉林省清洁土壤行动计划\n一、总体要求\n为加强土壤污染防治，制定本计划。".encode(), "seed document"),
    ]
    for name, data, message in cases:
        with pytest.raises(BadDocument, match=message):
            lib.plan([(name, data)], existing=load_documents() + lib.documents())
    assert lib.list_path.read_bytes() == before


def test_replace_only_when_asked_and_remove(tmp_path):
    lib = Library(tmp_path / "data")
    _plan_and_commit(lib, ["guofa_2018_39_cujin_jiuye.txt"])
    newer = (FIXTURES / "guofa_2018_39_cujin_jiuye.txt").read_bytes() + "\n".encode()
    plan = lib.plan([("newer.txt", newer)], existing=load_documents() + lib.documents(), replace=True)
    plan.commit()
    [entry] = lib.entries()
    assert (entry.key, entry.name) == ("39", "newer.txt")
    with pytest.raises(UnknownClause, match="seed document"):
        lib.plan([], existing=load_documents() + lib.documents(), remove=("40",))
    lib.plan([], existing=load_documents() + lib.documents(), remove=("39",)).commit()
    assert lib.entries() == []


def test_a_damaged_original_is_refused_not_half_read(tmp_path):
    lib = Library(tmp_path / "data")
    _plan_and_commit(lib, ["guofa_2018_39_cujin_jiuye.txt"])
    [entry] = lib.entries()
    (lib.dir / entry.file).write_bytes(b"changed")
    with pytest.raises(DataError, match="does not match its sha256"):
        lib.documents()
    lib.list_path.write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="cannot be read"):
        lib.entries()


def test_spam_in_an_added_document_is_removed_or_refused():
    from assistant.errors import BadDocument
    text = (FIXTURES / "guofa_2018_39_cujin_jiuye.txt").read_text(encoding="utf-8")
    lines = text.split("\n")
    doc = parse_reading(read_bytes("\n".join(["欧宝体育 澳门博彩平台 BBIN电子"] + lines).encode(), "a.txt"))
    assert "欧宝" not in doc.text
    assert "就业是最大的民生" in text
    tampered = text.replace("就业是最大的民生", "详情请访问欧宝体育官网注册。就业是最大的民生", 1)
    with pytest.raises(BadDocument, match="欧宝体育"):
        parse_reading(read_bytes(tampered.encode(), "b.txt"))


def test_a_link_in_a_header_line_is_chrome_not_a_refusal():
    text = (FIXTURES / "guofa_2018_39_cujin_jiuye.txt").read_text(encoding="utf-8")
    page = "来源：http://www.gov.cn/zhengce/content/2018-11/16/content_5340876.htm\n" + text
    doc = parse_reading(read_bytes(page.encode(), "c.txt"))
    assert doc.doc_number == "国发〔2018〕39号" and "http" not in doc.text
    assert re.search(r"https?://", doc.text) is None


def test_a_paragraph_after_an_articles_items_is_its_next_kuan(parsed):
    _, cat = parsed["yunnan_2024_231_kezhidu_huaxuepin.html"]
    k = cat.find("云南省人民政府令第231号 第十二条第二款")
    assert k.text.startswith("销售凭证包括") and "保存期限不得少于2年" in k.text
    assert cat.by_id[k.parent_id].local_citation == "第十二条"
    item = cat.find("云南省人民政府令第231号 第十二条第（四）项")
    assert item.text == "（四）其他应当载明的信息。"
    assert cat.clauses[0].citation == "云南省人民政府令第231号"   # an order names itself
