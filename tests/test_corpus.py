"""Documents from the real gazette page: cleaned, complete, and free of the injected spam."""
import pytest

from assistant.ingest.corpus import load_documents, load_lexicon, parse_page
from assistant.errors import CorpusContaminated
from assistant.ingest.corpus import DEFAULT_CORPUS_DIR

PAGE = (DEFAULT_CORPUS_DIR / "000_084d63c18fb0a30d.txt").read_text(encoding="utf-8")


def test_three_documents_with_restored_issuer(catalog):
    docs = {d.key: d for d in catalog.documents}
    assert sorted(docs) == ["40", "41", "42"]
    assert docs["40"].doc_number == "吉政发〔2016〕40号"
    assert docs["40"].title == "吉林省清洁土壤行动计划"
    assert docs["40"].notice_title == "吉林省人民政府关于印发吉林省清洁土壤行动计划的通知"
    assert docs["42"].title == "吉林省生态环境损害赔偿制度改革试点工作实施方案"
    assert docs["41"].title.startswith("贯彻落实国务院关于深入推进实施新一轮东北振兴战略")
    assert [d.issue_date for d in catalog.documents] == ["2016-11-28", "2016-12-09", "2016-12-08"]
    for d in catalog.documents:
        assert d.issuer == "吉林省人民政府" and d.issuer_inferred
        assert any("inferred" in n for n in d.notes)
        assert d.addressees[0] == "各市(州)人民政府"
        assert d.body.startswith("为")


def test_no_spam_or_page_chrome_anywhere(catalog):
    lex = load_lexicon()
    for d in catalog.documents:
        for text in (d.text, d.notice_title, d.title, d.issuer):
            assert lex.find(text) is None
            for chrome in ("站群导航", "返回顶部", "AQI", "第2期", "•"):
                assert chrome not in text


def test_canary_in_a_sentence_is_refused():
    canary = "详情请访问欧宝体育官网注册领取彩金。"
    tampered = PAGE.replace("特制定本计划。", "特制定本计划。" + canary, 1)
    with pytest.raises(CorpusContaminated) as e:
        parse_page(tampered, source="canary.txt")
    assert "欧宝体育" in str(e.value) and "refused" in str(e.value)


def test_canary_domain_in_a_sentence_is_refused():
    tampered = PAGE.replace("特制定本计划。", "特制定本计划。更多内容见 www.ob-sports.com 。", 1)
    with pytest.raises(CorpusContaminated):
        parse_page(tampered, source="canary.txt")


def test_canary_link_line_is_dropped_not_kept():
    tampered = PAGE.replace("返回顶部", "返回顶部\n\n欧宝体育 澳门博彩平台 BBIN电子", 1)
    docs = parse_page(tampered, source="canary.txt")
    assert len(docs) == 3 and all("欧宝" not in d.text for d in docs)


def test_other_layout_issuer_from_title(tmp_path):
    from pathlib import Path
    page = (Path(__file__).parent / "fixtures" / "other_layout.txt").read_text(encoding="utf-8")
    [doc] = parse_page(page, source="other_layout.txt")
    assert doc.doc_number == "长府办发〔2019〕7号" and doc.key == "7"
    assert doc.issuer == "长春市人民政府办公厅" and not doc.issuer_inferred
    assert doc.title == "长春市城市绿化提升实施方案"
    assert doc.issue_date == "2019-03-15"


def test_new_page_in_corpus_folder_is_loaded(tmp_path):
    from pathlib import Path
    (tmp_path / "a.txt").write_text(PAGE, encoding="utf-8")
    (tmp_path / "b.txt").write_text((Path(__file__).parent / "fixtures" / "other_layout.txt").read_text(encoding="utf-8"),
                                    encoding="utf-8")
    assert [d.key for d in load_documents(tmp_path)] == ["40", "41", "42", "7"]
