"""CC-CEDICT as a bridge for English questions, and agency names composed from parts (no models).

The slow test at the end builds an index without the hand renderings and answers English questions from it."""
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.answer.agency_names import compose
from assistant.answer.answerability import Answerability
from assistant.search.bridge import corpus_terms
from assistant.search.dictionary import EXACT, PHRASE, WORD, Cedict, Translator, clean_sense, load_cedict, stem
from assistant.answer.phrasing import unit_en
from assistant.answer.question import parse
from assistant.ingest.records import Unit

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cedict():
    return load_cedict()


@pytest.fixture(scope="module")
def corpus_translator(cedict, catalog):
    """The dictionary restricted to the real corpus's vocabulary."""
    return Translator(cedict, corpus_terms(catalog))


@pytest.mark.parametrize("english, zh", [("soil", "土壤"), ("straw", "秸秆"), ("subsidy", "补贴"),
                                         ("subsidies", "补贴"), ("pollution", "污染")])
def test_english_words_reach_the_corpus_terms(corpus_translator, english, zh):
    assert zh in corpus_translator.terms(english)


def test_a_headword_outside_the_corpus_vocabulary_is_dropped(cedict):
    only_soil = Translator(cedict, ["土壤"])
    assert only_soil.terms("soil subsidy") == ["土壤"]   # 补贴 is a CC-CEDICT headword, not a term of this corpus
    assert Translator(cedict, []).terms("soil") == []


def test_the_most_specific_gloss_match_wins():
    fake = Cedict({"甲乙": "soil", "丙丁": "soil pollution", "戊己": "a long account of the soil of a far valley"})
    assert [(t.zh, t.level) for t in Translator(fake, ["甲乙", "丙丁", "戊己"]).lookup(("soil",))] == [("甲乙", EXACT)]
    assert [(t.zh, t.level) for t in Translator(fake, ["丙丁", "戊己"]).lookup(("soil",))] == [("丙丁", PHRASE)]
    assert [(t.zh, t.level) for t in Translator(fake, ["戊己"]).lookup(("soil",))] == [("戊己", WORD)]


def test_a_word_pair_matched_as_a_phrase_covers_its_words():
    fake = Cedict({"保税区": "bonded area/tariff-free zone", "区域": "area", "保税": "bonded"})
    found = Translator(fake, ["保税区", "区域", "保税"]).translate("Is there a bonded area?")
    assert [(t.english, t.zh) for t in found] == [("bonded area", "保税区")]


def test_stop_words_and_glossary_words_are_not_translated(cedict):
    t = Translator(cedict, ["土壤", "其他", "问题"])
    assert t.terms("What other soil?", skip=["soil"]) == []


@pytest.mark.parametrize("word, stemmed", [("subsidies", "subsidy"), ("subsidy", "subsidy"), ("restored", "restor"),
                                           ("restoring", "restor"), ("restore", "restor"), ("planned", "plan"),
                                           ("housing", "hous"), ("house", "hous"), ("straw", "straw")])
def test_stem(word, stemmed):
    assert stem(word) == stemmed


def test_senses_are_cleaned(cedict):
    assert clean_sense("to supplement (one's salary etc)") == "to supplement"
    assert cedict.gloss("秸秆") == "straw"
    assert cedict.gloss("土壤") == "soil"
    assert cedict.gloss("不是一个词语的字串") is None
    assert not any("CL:" in s for s in cedict.senses("海关"))


@pytest.mark.parametrize("zh, en", [
    ("市住房城乡建设局", "Municipal Bureau of Housing and Urban-Rural Development"),
    ("人民银行吉林市中心支行", "People's Bank of China Jilin Municipal Central Sub-branch"),
    ("人民银行长春中心支行", "People's Bank of China Changchun Central Sub-branch"),
    ("长春海关", "Changchun Customs"),
    ("四平海关", "Siping Customs"),
    ("县农业农村局", "County Bureau of Agriculture and Rural Area"),
    ("市发展改革委", "Municipal Development and Reform Commission"),
    ("长春市财政局", "Changchun Municipal Bureau of Finance"),
    ("县委宣传部", "Publicity Department of the County Party Committee"),
    ("县政府", "County Government"),
])
def test_agency_names_composed_from_parts(zh, en):
    assert compose(zh) == en


def test_an_agency_with_an_unknown_part_stays_in_chinese():
    assert compose("县龘龘局") is None
    # the glossary's 省法院 is "Jilin Provincial Higher People's Court": a county's court is not Jilin's higher one
    assert compose("县法院") == "County Court of Law"
    assert unit_en(Unit("县龘龘局", False, False)) == "县龘龘局"


def test_the_answer_line_names_an_agency_the_glossary_lacks():
    assert unit_en(Unit("市住房城乡建设局", True, False, "部门")) == \
        "Municipal Bureau of Housing and Urban-Rural Development and other departments"
    assert unit_en(Unit("省财政厅", False, False)) == "Provincial Finance Department"   # the glossary's own name


def test_english_grounding_uses_glosses_when_a_clause_has_no_rendering(catalog, cedict):
    without = Answerability(catalog, renderings={})
    assert without.grounding(parse("Is straw burning banned?")) is None   # no English to compare with
    glossed = Answerability(catalog, renderings={}, dictionary=cedict)
    assert glossed.grounding(parse("Is crop straw burning banned?")) >= 0.5
    assert glossed.grounding(parse("Which ski resorts are best for beginners?")) < 0.34


def test_an_english_quotation_is_not_refused_when_a_clause_has_no_rendering(catalog, cedict):
    renderings = {c.clause_id: "Soil pollution prevention." for c in catalog.clauses[:10]}   # the rest: none
    a = Answerability(catalog, renderings=renderings, dictionary=cedict)
    assert a._quoted(parse("What does 'Internet Plus' mean?"), None, "") == ""


@pytest.fixture(scope="module")
def answerer_without_renderings(tmp_path_factory, index_dir):
    out = tmp_path_factory.mktemp("index-no-renderings")
    # the Chinese passages are the session index's: their vectors are reused, not embedded again
    subprocess.run([sys.executable, "-m", "assistant", "build", "--no-renderings", "--index", str(out),
                    "--reuse-from", str(index_dir)], check=True, cwd=ROOT, capture_output=True)
    from assistant.answer.answerer import load_answerer
    from assistant.ingest.corpus import DEFAULT_CORPUS_DIR
    return load_answerer(out, corpus_dir=DEFAULT_CORPUS_DIR)


@pytest.mark.slow
@pytest.mark.parametrize("q, cid", [("What is the straw target?", "40-2.5.5"),
                                    ("Which agency leads mine restoration?", "40-2.3")])
def test_english_answered_without_renderings(answerer_without_renderings, q, cid):
    answerer = answerer_without_renderings
    assert answerer.renderings == {}
    assert not any(p["source"] in ("en", "en-sent") for p in answerer.retriever.index.passages)
    a = answerer.ask(q)
    assert a.found, a.answer
    assert a.citations[0].clause_id == cid
    assert a.citations[0].english is None
