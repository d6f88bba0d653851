"""HTML for the page, built from answers and clauses. Every piece of corpus text or user input is escaped
here: the source page was tampered with, and questions come from anyone at a public desk."""
from __future__ import annotations

from html import escape

from ..answer.response import Answer, Citation
from ..ingest.catalog import Catalog

LABELS = {
    "zh": {
        "title": "吉林省政策问答", "subtitle": "离线检索 {documents} 份政府文件，逐条引用原文。",
        "tab_ask": "问答", "tab_resp": "责任分工", "tab_targets": "目标与时限", "tab_docs": "原文",
        "question": "问题", "placeholder": "例如：矿山土壤生态环境恢复治理由哪个部门牵头？", "send": "提问",
        "clear": "清空对话", "evidence": "依据条款", "copy": "复制引用", "copy_text": "引用文本",
        "doc_filter": "文件范围", "all_docs": "全部", "lang": "语言 / Language", "agency": "部门",
        "all_agencies": "全部部门", "download": "下载 CSV", "document": "文件", "open_doc": "在原文中查看",
        "related": "相关条款", "english": "英文参考译文（非官方）", "no_english": "本条暂无英文参考译文。",
        "not_found": "文件中未涉及", "nearest": "最接近的条款（不作为答案）",
        "not_stated": "这些文件没有规定", "off_topic": "不属于这些文件的内容", "why": "原因",
        "empty_evidence": "提问后，这里显示所引用的条款原文、出处和相关条款。",
        "resp_hint": "选择一行，在“问答”页查看该条款。", "chat": "对话",
        "cols_resp": ["部门", "职责", "出处", "事项"],
        "cols_targets": ["时间", "指标或任务", "数值", "限定", "牵头", "负责", "出处"],
        "role": {"lead": "牵头", "participants": "参与", "responsible": "负责"},
        "footer": "索引构建于 {built} · 模型：{model} · {clauses} 条款 · {passages} 检索单元",
        "inferred": "发文机关据文号推定（来源网页被篡改）",
    },
    "en": {
        "title": "Jilin policy Q&A", "subtitle": "Offline search over {documents} government documents, "
                                                "quoting each provision verbatim.",
        "tab_ask": "Ask", "tab_resp": "Responsibilities", "tab_targets": "Targets & deadlines", "tab_docs": "Documents",
        "question": "Question", "placeholder": "e.g. Which agency leads mine restoration?", "send": "Ask",
        "clear": "Clear conversation", "evidence": "Evidence", "copy": "Copy quote + citation",
        "copy_text": "Quote + citation", "doc_filter": "Documents", "all_docs": "All", "lang": "语言 / Language",
        "agency": "Agency", "all_agencies": "All agencies", "download": "Download CSV", "document": "Document",
        "open_doc": "Open in document", "related": "Related provisions",
        "english": "English rendering (unofficial)", "no_english": "No English rendering for this provision yet.",
        "not_found": "Not covered by these documents", "nearest": "Nearest provisions (not an answer)",
        "not_stated": "Not stated in these documents", "off_topic": "Not about these documents", "why": "Why",
        "empty_evidence": "Ask a question: the cited provision, its citation and related provisions appear here.",
        "resp_hint": "Select a row to see that provision on the Ask tab.",
        "chat": "Conversation",
        "cols_resp": ["Agency", "Role", "Citation", "Task"],
        "cols_targets": ["Date", "Indicator or task", "Value", "Qualifier", "Lead", "Responsible", "Citation"],
        "role": {"lead": "leads", "participants": "takes part", "responsible": "responsible"},
        "footer": "Index built {built} · model: {model} · {clauses} clauses · {passages} retrieval units",
        "inferred": "issuer inferred from the document number (the source page was tampered with)",
    },
}


# the page's `lang` follows its language switch; text in the other language carries its own lang attribute,
# so a screen reader speaks Chinese passages with a Chinese voice on the English page (and the reverse)
HTML_LANG = {"zh": "zh-CN", "en": "en"}
ZH = "lang='zh-CN'"
EN = "lang='en'"


def text_html(text: str) -> str:
    return escape(text).replace("\n", "<br>")


def provision_html(text: str, span: tuple[int, int] | None) -> str:
    """The clause verbatim with the answering span in <mark>, all of it escaped."""
    if not span:
        return text_html(text)
    s, e = max(0, span[0]), min(len(text), span[1])
    return f"{text_html(text[:s])}<mark class='answer-span'>{text_html(text[s:e])}</mark>{text_html(text[e:])}"


def copy_text(c: Citation) -> str:
    """「…provision…」（《title》（doc number）第…） — for pasting into a draft."""
    return f"「{c.text}」（{c.citation}）"


def evidence_html(answer: Answer | None, lang: str) -> str:
    L = LABELS[lang]
    if answer is not None and not answer.found and answer.kind in ("not_stated", "off_topic"):
        return refusal_html(answer, L)
    if answer is None or not answer.citations:
        return f"<div class='evidence empty'>{escape(L['empty_evidence'])}</div>"
    top, rest = answer.citations[0], answer.citations[1:]
    parts = ["<div class='evidence'>"]
    if not answer.found:
        parts.append(f"<div class='refusal'>{escape(L['not_found'])}</div>")
        parts.append(f"<h4>{escape(L['nearest'])}</h4><ul class='related'>")
        parts += [f"<li><span class='cite' {ZH}>{escape(c.citation)}</span></li>" for c in answer.citations]
        parts.append("</ul></div>")
        return "".join(parts)
    parts.append(f"<div class='cite' data-clause='{escape(top.clause_id)}' {ZH}>{escape(top.citation)}</div>")
    parts.append(f"<div class='trail' {ZH}>{escape(top.heading)}</div>")
    parts.append(f"<div class='provision' {ZH}>{provision_html(top.text, top.span)}</div>")
    if lang == "en" or answer.lang == "en":  # an English question gets the rendering whatever the page language
        # the Chinese above stays the authority; the rendering is labelled unofficial wherever it is shown
        body = f"<div {EN}>{text_html(top.english)}</div>" if top.english else escape(L["no_english"])
        parts.append(f"<details class='english' open><summary>{escape(L['english'])}</summary>{body}</details>")
    if rest:
        parts.append(f"<h4>{escape(L['related'])}</h4><ul class='related'>")
        parts += provision_items(rest[:4])
        parts.append("</ul>")
    parts.append("</div>")
    return "".join(parts)


def provision_items(citations) -> list[str]:
    """One list item per provision: its citation and the start of its first line (Chinese, escaped)."""
    out = []
    for c in citations:
        first = c.text.split("\n")[0]
        out.append(f"<li><span class='cite' {ZH}>{escape(c.citation)}</span><br>"
                   f"<span class='snippet' {ZH}>{escape(first[:80])}{'…' if len(first) > 80 else ''}</span></li>")
    return out


def refusal_html(answer: Answer, L: dict) -> str:
    """The two ways of not answering, told apart: not stated (with the mismatch and the nearest provisions,
    labelled as not an answer) and off-topic (the reason only)."""
    kind = answer.kind
    parts = [f"<div class='evidence {kind}'><div class='refusal' data-outcome='{kind}'>{escape(L[kind])}</div>"]
    if answer.reason:
        parts.append(f"<div class='reason'>{escape(L['why'])}: {escape(answer.reason)}</div>")
    if answer.citations:
        parts.append(f"<h4>{escape(L['nearest'])}</h4><ul class='related nearest'>")
        parts += provision_items(answer.citations)
        parts.append("</ul>")
    parts.append("</div>")
    return "".join(parts)


def document_html(catalog: Catalog, doc_key: str, lang: str, *, highlight: str | None = None) -> str:
    """A document's cleaned text with an anchor per clause; `highlight` marks one clause."""
    L = LABELS[lang]
    doc = catalog.document(doc_key)
    head = [f"<div class='doc' {ZH}><h3>{escape(doc.notice_title)}</h3>",
            f"<div class='docmeta'>{escape(doc.doc_number)} · {escape(doc.issue_date)} · {escape(doc.issuer)}"
            + (f" <span class='inferred' lang='{HTML_LANG[lang]}'>（{escape(L['inferred'])}）</span>"
               if doc.issuer_inferred else "") + "</div>"]
    body = []
    for c in catalog.clauses:
        if c.doc_key != doc.key:
            continue
        cls = "clause hl" if c.clause_id == highlight else "clause"
        if c.level == "notice":
            body.append(f"<div id='clause-{escape(c.clause_id)}' class='{cls} notice'>{text_html(c.text)}</div>"
                        f"<h4 class='attachment'>{escape(doc.title)}</h4>")
            continue
        body.append(f"<div id='clause-{escape(c.clause_id)}' class='{cls}'>"
                    f"<span class='cid'>{escape(c.local_citation)}</span>{text_html(c.text)}</div>")
    return "".join(head + body) + "</div>"


# ---- the document-management area (ui_admin.py) ---------------------------------------------------------
ADMIN_LABELS = {
    "zh": {"number": "文号", "title": "标题", "issuer": "发文机关", "date": "成文日期", "addressees": "主送",
           "attachments": "附件", "clauses": "条款", "owners": "责任单位", "warnings": "请核对",
           "issuer_text": "见于文件正文", "issuer_inferred": "据文号推定", "none": "（无）",
           "counts": "{clauses} 条款 · {responsibilities} 条责任分工 · {targets} 项目标或时限",
           "first": "前 {n} 条（共 {total} 条）", "check": "核对无误后点击“确认添加”。"},
    "en": {"number": "Number", "title": "Title", "issuer": "Issuer", "date": "Date", "addressees": "Addressed to",
           "attachments": "Attachments", "clauses": "Clauses", "owners": "Owners", "warnings": "Check",
           "issuer_text": "from the document's own text", "issuer_inferred": "inferred from the number",
           "none": "(none)", "counts": "{clauses} clauses · {responsibilities} responsibilities · "
                                       "{targets} targets or deadlines",
           "first": "first {n} of {total}", "check": "If this is right, press Confirm to add it."},
}
PREVIEW_CLAUSES = 12


def owners_text(clause: dict) -> str:
    """Who owns a clause, as the document says it (牵头 lead, then the others)."""
    out = []
    for r in clause["responsibilities"]:
        lead = "、".join(r["lead"])
        rest = "、".join(r["participants"] + r["responsible"])
        out.append(f"{lead}牵头" + (f"（{rest}）" if rest else "") if lead else rest)
    return "；".join(o for o in out if o)


def summary_html(s: dict, lang: str) -> str:
    """The preview of one parsed document (ingest.document_summary): its facts, its first clauses with their
    citations and owners, and what to check. Everything in it comes from the uploaded file: all escaped."""
    A = ADMIN_LABELS[lang]
    how = s["issuer_from"] or (A["issuer_inferred"] if s["issuer_inferred"] else A["issuer_text"])
    facts = [(A["number"], s["doc_number"] or A["none"]), (A["title"], s["title"]),
             (A["issuer"], f"{s['issuer'] or A['none']}（{how}）" if s["issuer"] else A["none"]),
             (A["date"], s["issue_date"] or A["none"]), (A["addressees"], "、".join(s["addressees"]) or A["none"]),
             (A["attachments"], "；".join(s["attachments"]) or A["none"]),
             (A["clauses"], A["counts"].format(**s["counts"]))]
    parts = [f"<div class='preview' data-key='{escape(s['key'])}'><h3 {ZH}>{escape(s['cited_as'])}</h3><dl>"]
    parts += [f"<dt>{escape(k)}</dt><dd {ZH}>{escape(v)}</dd>" for k, v in facts]
    parts.append("</dl>")
    clauses = s["clauses"][:PREVIEW_CLAUSES]
    parts.append(f"<h4>{escape(A['first'].format(n=len(clauses), total=len(s['clauses'])))}</h4><ol class='clauses'>")
    for c in clauses:
        first = c["text"].split("\n")[0]
        owners = owners_text(c)
        parts.append(f"<li><span class='cite' {ZH}>{escape(c['citation'])}</span><br>"
                     f"<span class='snippet' {ZH}>{escape(first[:90])}{'…' if len(first) > 90 else ''}</span>"
                     + (f"<br><span class='owners'>{escape(A['owners'])}: <span {ZH}>{escape(owners)}</span></span>"
                        if owners else "") + "</li>")
    parts.append("</ol>")
    if s["warnings"]:
        parts.append(f"<h4>{escape(A['warnings'])}</h4><ul class='warnings'>")
        parts += [f"<li>{escape(w)}</li>" for w in s["warnings"]]
        parts.append("</ul>")
    parts.append(f"<p class='hint'>{escape(A['check'])}</p></div>")
    return "".join(parts)


def notice_html(text: str, *, kind: str = "info") -> str:
    """One message of the document area: `kind` is info, ok or error (errors are the cause and the fix)."""
    return f"<div class='admin-notice {escape(kind)}' role='{'alert' if kind == 'error' else 'status'}'>" \
           f"{text_html(text)}</div>"


CSS = """
.evidence { font-size: 15px; line-height: 1.7; }
.evidence .cite { font-weight: 600; color: #7a1f1f; margin-bottom: 4px; }
.evidence .trail { color: #555; font-size: 13px; margin-bottom: 8px; }
.evidence .provision { background: #fffdf5; border-left: 3px solid #c9a227; padding: 8px 12px; }
.evidence mark.answer-span { background: #ffe58a; padding: 0 2px; }
.evidence .refusal { font-weight: 600; color: #7a1f1f; font-size: 16px; margin-bottom: 8px; }
.evidence.off_topic .refusal { color: #4a4a4a; }
.evidence .reason { margin-bottom: 8px; }
.evidence ul.related { padding-left: 18px; font-size: 13px; }
.evidence .snippet { color: #555; }
.evidence details.english { margin-top: 10px; color: #333; font-size: 14px; }
.doc { font-size: 15px; line-height: 1.8; max-height: 70vh; overflow-y: auto; }
.doc .clause { padding: 4px 8px; border-radius: 4px; }
.doc .clause.hl { background: #ffe58a; }
.doc .cid { color: #7a1f1f; font-size: 12px; margin-right: 8px; }
.doc .docmeta { color: #555; margin-bottom: 10px; }
footer, .footer-status { color: #666; font-size: 12px; }
.preview { font-size: 14px; line-height: 1.6; }
.preview dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; }
.preview dt { color: #555; }
.preview dd { margin: 0; }
.preview .cite { font-weight: 600; color: #7a1f1f; }
.preview .snippet, .preview .owners { color: #444; }
.preview ul.warnings li { color: #7a4b00; }
.admin-notice { padding: 8px 12px; border-radius: 4px; margin: 4px 0; }
.admin-notice.ok { background: #eef8ee; border-left: 3px solid #2e7d32; }
.admin-notice.error { background: #fdf0f0; border-left: 3px solid #b3261e; color: #5c1010; }
.admin-notice.info { background: #f3f4f8; border-left: 3px solid #4a56a6; }
"""

# Runs once the page has loaded (ui.py passes it to launch): <html lang> follows the 中文/English switch, and
# text in the other language (a Chinese question or table cell on the English page, an English one on the
# Chinese page) gets its own lang, so screen readers pick the right voice. Our own HTML (evidence, documents)
# carries lang already; this covers what Gradio renders: chat messages, table cells, examples, dropdowns.
PAGE_JS = """
() => {
  const CJK = /[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]/g, LATIN = /[A-Za-z]/g;
  const SEL = "#chat .message-content, [role='gridcell'], [role='columnheader'], .gallery-item, "
            + "ul.options li, #doc-pick input, #agency input, #quote textarea, #question textarea";
  const pageLang = () => document.querySelector("#lang input[value='en']")?.checked ? "en" : "zh-CN";
  let queued = false;
  function mark() {
    queued = false;
    const page = pageLang();
    if (document.documentElement.lang !== page) document.documentElement.lang = page;
    for (const el of document.querySelectorAll(SEL)) {
      const text = ("value" in el && el.tagName !== "LI" ? el.value : el.textContent) || "";
      const zh = (text.match(CJK) || []).length, en = (text.match(LATIN) || []).length;
      const own = zh > en ? "zh-CN" : en > 0 ? "en" : "";
      const want = own && own !== page ? own : "";
      if ((el.getAttribute("lang") || "") !== want) {
        want ? el.setAttribute("lang", want) : el.removeAttribute("lang");
      }
    }
  }
  const queue = () => { if (!queued) { queued = true; requestAnimationFrame(mark); } };
  new MutationObserver(queue).observe(document.body, {subtree: true, childList: true, characterData: true});
  document.addEventListener("change", queue, true);
  document.addEventListener("input", queue, true);
  mark();
}
"""
