"""What a question asks: its kind (who, target, when, document facts, reverse lookup, full text), cleaned
text, citations written in it, and the character bigrams used to compare it with sentences."""
from __future__ import annotations

import re
import unicodedata

WHO_ZH = re.compile(r"牵头|哪个部门|哪些部门|哪个单位|哪些单位|谁负责|由谁|谁来|负责部门|责任部门|责任单位|主管部门|哪个机构|谁")
WHO_EN = re.compile(r"\b(lead|leads|leading|responsible|in charge|handles?|which agenc\w*|which department\w*|who)\b", re.I)
PART_ZH = re.compile(r"参与|配合|会同")
PART_EN = re.compile(r"\b(participat\w*|take part|takes part|involved|assist\w*)\b", re.I)
TARGET_ZH = re.compile(r"多少|几[个支家]|比例|目标|指标|[率量]|达到|提高到")
TARGET_EN = re.compile(r"\b(how many|how much|rate|target|percent\w*|share|ratio|goal)\b", re.I)
WHEN_ZH = re.compile(r"什么时候|何时|哪年|哪一年|时限|期限|截止|几月|年底前")
WHEN_EN = re.compile(r"\b(when|by when|deadline|what year|which year|by what date)\b", re.I)
DOCFACT_ZH = {
    # the title of a document, asked as such ("42号文件的标题", "40号文件叫什么"), not any name ("小组叫什么")
    "title": re.compile(r"(文件|文|通知|方案|计划|措施|号)(的)?(标题|题目|全称|名称|名字)|(文件|文|号)叫什么"),
    "number": re.compile(r"文号|发文字号|字号|编号"),
    "date": re.compile(r"印发日期|发布日期|印发时间|发布时间|哪天印发|什么时候印发|何时印发|成文日期|日期"),
    "issuer": re.compile(r"发文机关|发文单位|谁印发|谁发布|印发单位|哪个机关|由谁印发|谁发的"),
    "addressees": re.compile(r"主送|发给谁|发给哪些"),
    "implements": re.compile(r"(贯彻落实|依据|根据|落实)(的)?(是)?(哪个|什么|哪一个|哪份)(文件|意见|精神|规定|方案)"),
}
DOCFACT_EN = {
    "title": re.compile(r"\b(title|full name)\b|\bwhat is (the )?(document|notice|plan|measures|no\.?)\b.{0,30}\bcalled\b",
                        re.I),
    "number": re.compile(r"\bdocument number\b|\bfile number\b|\breference number\b", re.I),
    "date": re.compile(r"\b(date of issue|issue date|when was .* issued|when were .* issued|issued on|dated?)\b", re.I),
    "issuer": re.compile(r"\b(who issued|issuer|issuing (body|authority))\b", re.I),
    "addressees": re.compile(r"\b(addressed to|addressees|sent to)\b", re.I),
    "implements": re.compile(r"\b(opinion|document|plan|notice|policy)\b.*\b(implement\w*|based on)\b|"
                             r"\b(implement\w*|based on|pursuant to)\b.*\b(opinion|document|plan|notice|policy)\b", re.I),
}
IMPLEMENTED_RE = re.compile(r"《[^》]+》\([^()]*〔\d{4}〕\d+号\)")
REVERSE_ZH = re.compile(r"哪些工作|什么工作|哪些任务|什么任务|哪些事|哪几项|哪些条|哪些措施|负责什么|牵头什么|参与什么")
REVERSE_EN = re.compile(r"\b(what does|what do|which tasks|what tasks|which measures|what work)\b", re.I)
ROLE_LABELS_ZH = {"lead": "牵头", "participants": "参与", "responsible": "负责"}
ROLE_LABELS_EN = {"lead": "leads", "participants": "takes part in", "responsible": "is responsible for"}


def clean_question(text: str | None) -> str:
    """What a question says, safe for every tokenizer: NFKC, lone surrogates replaced, control, format
    (zero-width, bidi) and private-use characters dropped, runs of white space (U+3000 too) folded."""
    text = (text or "").encode("utf-8", "replace").decode("utf-8")  # lone surrogates → ?
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def bigrams(s: str) -> set[str]:
    s = re.sub(r"[\s,，。;；:：、()（）“”\"?？!！《》]", "", norm(s).lower())
    return {s[i:i + 2] for i in range(len(s) - 1)}


def overlap(query_bigrams: set[str], text: str) -> float:
    b = bigrams(text)
    return len(query_bigrams & b) / (len(query_bigrams) or 1)


FULL_TEXT = re.compile(r"原文|全文|原话|完整内容|full text|whole text|the text|verbatim|exact wording", re.I)
CITE_IN_TEXT = re.compile(r"(?:[\u4e00-\u9fff]{1,8}〔\d{4}〕)?\d{1,4}号文?\s*的?(?:前言|序言|结语|印发通知)?"
                          r"(?:第?[一二三四五六七八九十]+(?:部分|、)?)?"
                          r"(?:第?\([一二三四五六七八九十]+\)项?)?(?:第?\d{1,3}条?)?(?:第?\(\d{1,3}\)目?)?")
EN_MEASURE = re.compile(r"\bmeasure\s+(?:no\.?\s*)?(?P<n>\d{1,3})(?:\s+(?:of|in)\s+(?:document|doc\.?|no\.?)\s*(?P<doc>\d{1,4}))?",
                        re.I)


def is_bare_citation(q: str) -> bool:
    """A question that is only a citation ('41号文第17条', 'measure 64 of document 41'), asking for the text."""
    rest = CITE_IN_TEXT.sub("", norm(q))
    rest = EN_MEASURE.sub("", rest)
    return len(re.sub(r"[\s?？。,，的原文内容是什么请给出显示show|text|of|the|what|is|says?]", "", rest, flags=re.I)) <= 2
