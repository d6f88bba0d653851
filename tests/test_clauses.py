"""The clause tree of the real documents and of a fixture in another layout."""
from pathlib import Path

import pytest

from assistant.ingest.catalog import Catalog
from assistant.ingest.clauses import cn_to_int, parse_citation
from assistant.ingest.corpus import parse_page
from assistant.errors import UnknownClause

FIXTURE = Path(__file__).parent / "fixtures" / "other_layout.txt"


def test_clause_texts_are_verbatim_and_cover_the_body(catalog):
    from assistant.ingest.corpus import DEFAULT_CORPUS_DIR
    for doc in catalog.documents:
        # verbatim: every line of every clause is a paragraph of the gazette page as published
        page = (DEFAULT_CORPUS_DIR / doc.source).read_text(encoding="utf-8")
        clauses = [c for c in catalog.clauses if c.doc_key == doc.key and c.level != "notice"]
        for c in clauses:
            for line in c.text.split("\n"):
                assert line and line in page, (c.clause_id, line[:40])
            if c.level == "measure":  # and the text is the clause's own: it opens with its number
                assert c.text.startswith(f"{c.number}."), (c.clause_id, c.text[:12])
        # in order, separated only by the paragraph breaks: nothing lost, nothing twice
        assert "\n".join(c.text for c in clauses) == doc.body
        assert clauses[0].start == doc.body_span[0] and clauses[-1].end == doc.body_span[1]


def test_clause_ids_unique_and_citations_name_the_document(catalog):
    ids = [c.clause_id for c in catalog.clauses]
    assert len(ids) == len(set(ids))
    for c in catalog.clauses:
        assert c.doc_number in c.citation


def test_doc41_measures_1_to_88_once_each(catalog):
    nums = [int(c.number) for c in catalog.clauses if c.doc_key == "41" and c.level == "measure"]
    assert nums == list(range(1, 89))
    m17 = catalog.find("41号 第17条")
    assert m17.citation.endswith("（吉政发〔2016〕41号）第17条")
    assert m17.heading.startswith("二、推进创新转型,培育发展动力 › (四)加快传统产业转型升级 › 17.")
    assert catalog.by_id[m17.parent_id].local_citation == "第二部分第（四）项"


def test_mine_restoration_example(catalog):
    [c] = [c for c in catalog.clauses if "矿山土壤生态环境恢复治理" in c.text]
    assert c.citation == "《吉林省清洁土壤行动计划》（吉政发〔2016〕40号）第二部分第（三）项"
    [r] = catalog.records_of(c.clause_id).responsibilities
    assert [u.name for u in r.lead] == ["省国土资源厅"]
    assert [u.name for u in r.participants] == ["省环保厅", "省林业厅", "省住房城乡建设厅"]


def test_straw_example(catalog):
    [c] = [c for c in catalog.clauses if "秸秆综合利用率达到85%以上" in c.text]
    assert c.citation == "《吉林省清洁土壤行动计划》（吉政发〔2016〕40号）第二部分第（五）项第5条"
    assert c.heading == "二、重点任务 › (五)加强农业和生活污染防控 › 5.开展废弃物资源化利用"
    [t] = [t for t in catalog.records_of(c.clause_id).targets if t.indicator == "秸秆综合利用率"]
    assert (t.value, t.qualifier, t.year) == ("85%", "以上", 2020)


def test_unnumbered_paragraphs_are_clauses(catalog):
    labels = [c.label for c in catalog.clauses if c.doc_key == "40" and c.level == "paragraph"]
    assert labels == ["基本原则", "工作目标", "主要指标"]
    assert catalog.find("40-1.p1").citation.endswith("第一部分“基本原则”")
    dash = [c for c in catalog.clauses if c.level == "dash"]
    assert [c.label for c in dash] == ["明确赔偿权利人", "明确赔偿义务人", "明确赔偿范围"]
    assert catalog.find("41-closing").text.startswith("各地、各有关部门要")
    assert catalog.find("40-preamble").local_citation == "前言"


@pytest.mark.parametrize("form, cid", [
    ("40号 二(五)5", "40-2.5.5"), ("40号 二(三)", "40-2.3"), ("41号 第17条", "41-2.4.17"),
    ("吉政发〔2016〕40号第二部分第（三）项", "40-2.3"), ("42号 三(四)", "42-3.4"),
    ("41号文第64条", "41-3.10.64"), ("40-2.5.5", "40-2.5.5"), ("41号 第1条", "41-1.1.1"), ("41号文第4条", "41-1.1.4"),
])
def test_lookup_by_citation_form(catalog, form, cid):
    assert catalog.find(form).clause_id == cid


@pytest.mark.parametrize("bad", ["", "40号 九(九)", "99号 第1条", "41号 第89条", "hello"])
def test_unknown_clause_is_a_clear_error(catalog, bad):
    with pytest.raises(UnknownClause, match="citation form"):
        catalog.find(bad)


def test_cn_numerals():
    assert [cn_to_int(s) for s in ("一", "九", "十", "十四", "二十", "二十三")] == [1, 9, 10, 14, 20, 23]
    # the catalog parses Chinese citation forms only; English ones are read by the answerer (test_ask)
    assert parse_citation("measure 64 of document 41") is None


def test_other_layout_parses_by_markers_not_by_known_headings():
    [doc] = parse_page(FIXTURE.read_text(encoding="utf-8"), source="fixture")
    cat = Catalog.from_documents([doc])
    got = {c.clause_id: (c.level, c.local_citation) for c in cat.clauses}
    assert got["7-1.1"] == ("subitem", "第一部分第1条")         # no (一) level in this part
    assert got["7-1.1.1"] == ("subsubitem", "第一部分第1条第（1）目")  # one level deeper than the seed
    assert got["7-2.2"] == ("item", "第二部分第（二）项")
    assert cat.find("7号 一1(2)").text.endswith("(市林业局)")
    body = [c for c in cat.clauses if c.level != "notice"]
    assert "\n".join(c.text for c in body) == doc.body
    recs = cat.records_of("7-1.1.1").responsibilities
    assert [u.name for u in recs[0].responsible] == ["各区政府"] and recs[0].responsible[0].local_gov
    [t] = cat.records_of("7-1.1").targets
    assert (t.indicator, t.value, t.qualifier, t.year) == ("城市建成区绿地率", "38%", "以上", 2021)
