"""Saved government web pages → body paragraphs and the page's metadata table, page chrome out.

Stdlib `html.parser` builds a small tolerant tree (real pages leave <p>, <li>, <td> open); the tree is
then flattened: block elements end paragraphs, chrome subtrees are dropped by general rules (tags, and
class/id names such as nav, menu, footer, share), and short paragraphs made only of link text or of
page-tool words (【打印】【关闭】, 分享到, 字号 大 中 小 …) are dropped too. A table of label/value rows
(索引号 | …, 发文字号 | 国办发〔2019〕35号) becomes `meta`, not body text.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

from ...errors import BadDocument
from .paragraphs import Reading, tidy
from .text import bom_encoding, check_not_binary

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
BLOCK = {"address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt", "figcaption", "figure",
         "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main", "ol", "p", "pre", "section", "table", "tbody",
         "td", "tfoot", "th", "thead", "tr", "ul", "caption", "body", "html"}
SKIP = {"script", "style", "noscript", "nav", "header", "footer", "form", "button", "select", "iframe", "svg",
        "head", "title", "template", "object", "embed", "canvas", "audio", "video", "map", "textarea", "option"}
# class/id names of chrome; "nav" and "foot" only as whole parts of a name ("unavailable" is not nav).
CHROME_NAME_RE = re.compile(r"(?:^|[-_])(?:nav|foot)(?:$|[-_\d])|nav(?:bar|igation)|topnav|mainnav|subnav|menu|"
                            r"footer|header|breadcrumb|crumb|share|toolbar|print|sidebar|copyright", re.I)
# …unless the same name also says it is the content ("article-header" holds the title).
CONTENT_NAME_RE = re.compile(r"article|content|detail|title", re.I)
# An ASP.NET page wraps the whole page in one <form>: only a small form is chrome (a search box).
MAX_CHROME_FORM_CHARS = 200

UI_RE = re.compile(
    r"打印本页|打印此页|打印本文|打印文章|打印|关闭本页|关闭窗口|关闭|返回顶部|返回首页|返回|收藏本页|加入收藏|收藏|"
    r"分享到|分享|扫一扫[^\s，。【】]{0,16}|(?:字号|字体)[:：]?(?:\s*[【\[]?\s*(?:大|中|小|默认|标准)\s*[】\]]?)*|"
    r"新浪微博|腾讯微博|微博|微信|QQ空间|QQ好友|QQ|人人网|豆瓣网?|朋友圈|我要纠错|纠错|视力保护色|保存|"
    r"(?:浏览|访问|点击|阅读)(?:次数|量|数)?[:：]?\s*\d*\s*次?")
# Page tools that share a line with the page's date and source: bracketed tools, font size, share.
UI_TAIL_RE = re.compile(r"[【\[]\s*(?:打印|关闭|收藏|加入收藏|返回|保存|纠错|我要纠错|字号|字体|分享|大|中|小|默认)[^】\]]{0,6}[】\]]|(?:字号|字体)[:：]?(?:\s*[【\[]?\s*(?:大|中|小|默认|标准)\s*[】\]]?)+|"
                        r"(?:浏览|访问|点击|阅读)(?:次数|量)[:：]?\s*\d*\s*次?|(?:分享到|扫一扫).*$")
UI_LEFTOVER_RE = re.compile(r"[\s【】\[\]()（）|｜丨/:：、,，.。·•>»]*")
NAV_PREFIX_RE = re.compile(r"^(?:当前位置|您现在的位置|您的位置|现在位置|上一篇|下一篇|上一条|下一条)[:：]?|"
                           r"^(?:相关(?:文件|链接|阅读|新闻|信息|政策|稿件|解读)|热点推荐|推荐阅读|延伸阅读)[:：]?$")
LINK_LEFTOVER_RE = re.compile(r"[\s\d\-/.:：年月日()（）\[\]【】|·•>»›,，、]*")
ATTACHMENT_RE = re.compile(r"\.(?:pdf|docx?|xlsx?|wps|zip|rar|ofd|txt)\s*$", re.I)
MAX_CHROME_CHARS = 60

META_LABELS = (
    "索引号", "主题分类", "发文机关", "成文日期", "标题", "发文字号", "发布日期", "主题词", "有效性", "文号",
    "发布机构", "发布时间", "信息来源", "来源", "体裁分类", "组配分类", "服务对象分类", "公开方式", "公开范围",
    "公开时限", "生成日期", "信息名称", "所属机构", "统一编号", "效力状态", "时效性", "实施日期", "废止日期",
    "失效日期", "文件编号", "发布单位", "责任部门", "信息分类", "关键词", "公文种类", "发文单位", "文件名称",
)
_LABEL_ALT = "|".join(r"\s*".join(map(re.escape, lab)) for lab in sorted(META_LABELS, key=len, reverse=True))
LABEL_RE = re.compile(rf"(?:{_LABEL_ALT})\s*[:：]")
CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
GB_ALIASES = {"gb2312", "gbk", "x-gbk", "cp936", "gb_2312-80", "gb18030", "x-euc-cn", "euc-cn"}
CJK = r"\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
CJK_SOFT_BREAK_RE = re.compile(rf"(?<=[{CJK}])[ \t\r\f]*\x00[ \t\r\f\x00]*(?=[{CJK}])")


class Node:
    __slots__ = ("tag", "attrs", "children")

    def __init__(self, tag: str, attrs: dict[str, str]):
        self.tag, self.attrs, self.children = tag, attrs, []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children
                       if isinstance(c, str) or c.tag not in SKIP)

    def find(self, tags: set[str], *, stop: set[str] = frozenset()) -> list[Node]:
        """Descendants with a tag in `tags`, not looking inside `stop` elements (nor inside a match)."""
        out = []
        for c in self.children:
            if isinstance(c, Node):
                if c.tag in tags:
                    out.append(c)
                elif c.tag not in stop:
                    out += c.find(tags, stop=stop)
        return out


class _TreeBuilder(HTMLParser):
    """A forgiving tree: implied end tags for p, li, td/th, tr; stray end tags ignored."""

    # Opening one of these closes the open one of the same kind, up to the container that scopes it.
    IMPLIED = {"li": ({"li"}, {"ul", "ol"}), "td": ({"td", "th"}, {"tr", "table"}),
               "th": ({"td", "th"}, {"tr", "table"}), "tr": ({"tr", "td", "th"}, {"table"}),
               "p": ({"p"}, {"div", "td", "li", "table", "body"})}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        if tag in self.IMPLIED or (tag in BLOCK and self.stack[-1].tag == "p"):
            closes, scope = self.IMPLIED.get(tag, ({"p"}, set()))
            for i in range(len(self.stack) - 1, 0, -1):
                if self.stack[i].tag in scope:
                    break
                if self.stack[i].tag in closes:
                    del self.stack[i:]
                    break
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        if tag in ("br", "p") and not any(n.tag == tag for n in self.stack):  # </br>, </p>: a break
            self.stack[-1].children.append(Node("br", {}))
            return
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def decode_html(data: bytes, name: str) -> tuple[str, str]:
    """Bytes → (text, note). BOM first; then UTF-8 when the bytes are valid UTF-8 (saved pages are often
    re-encoded but keep their old <meta charset>); then the declared charset; then GB18030."""
    enc = bom_encoding(data)
    if enc:
        return data.decode(enc, errors="replace"), f"decoded as {enc} (byte-order mark)"
    m = CHARSET_RE.search(data[:4096])
    declared = m.group(1).decode("ascii").lower() if m else None
    try:
        text = data.decode("utf-8")
        if declared and declared not in ("utf-8", "utf8") and not data.isascii():
            return text, f"decoded as UTF-8: the page declares {declared} but its bytes are UTF-8"
        return text, "decoded as UTF-8"
    except UnicodeDecodeError:
        pass
    tries = ["gb18030" if declared in GB_ALIASES else declared] if declared else []
    for enc in [*tries, "gb18030"]:
        try:
            return data.decode(enc), f"decoded as {enc.upper()}" + (f" (declared {declared})" if declared else "")
        except (UnicodeDecodeError, LookupError):
            pass
    text = data.decode("gb18030", errors="replace")
    check_not_binary(text, name)
    return text, f"decoded as GB18030; {text.count(chr(0xfffd))} undecodable byte sequence(s) shown as \ufffd"


def _is_chrome(node: Node, in_content: bool) -> bool:
    if node.tag in ("header", "footer") and in_content:  # an <article>'s own header holds its title
        return False
    if node.tag == "form":
        return len("".join(node.text().split())) <= MAX_CHROME_FORM_CHARS
    if node.tag in SKIP:
        return True
    names = " ".join((node.attrs.get("class", ""), node.attrs.get("id", ""))).split()
    return any(CHROME_NAME_RE.search(n) and not CONTENT_NAME_RE.search(n) for n in names)


def _label(cell: str) -> str:
    return re.sub(r"\s+", "", cell).rstrip(":：")


def _table_meta(table: Node) -> dict[str, str] | None:
    """A table of label/value cells → its pairs; None when it is not a metadata table."""
    if table.find({"table"}):
        return None
    rows = [[" ".join(c.text().split()) for c in tr.find({"td", "th"})] for tr in table.find({"tr"})]
    known = sum(1 for row in rows for cell in row if _label(cell) in META_LABELS or LABEL_RE.match(cell))
    if known < 2:
        return None
    meta: dict[str, str] = {}
    for row in rows:
        i = 0
        while i < len(row):
            if (m := LABEL_RE.match(row[i])) and row[i][m.end():].strip():
                meta.setdefault(_label(m.group(0)), row[i][m.end():].strip())
                i += 1
            elif i + 1 < len(row) and 0 < len(_label(row[i])) <= 8 and re.fullmatch(rf"[{CJK}]+", _label(row[i])):
                if row[i + 1].strip():
                    meta.setdefault(_label(row[i]), row[i + 1].strip())
                i += 2
            else:
                i += 1
    return meta


def _line_meta(par: str) -> dict[str, str] | None:
    """A paragraph made only of `label：value` pairs of known labels (and page tools) → the pairs."""
    rest = UI_TAIL_RE.sub(" ", par).strip()
    marks = list(LABEL_RE.finditer(rest))
    if not marks or marks[0].start() != 0 or len(par) > 120:
        return None
    out = {}
    for m, nxt in zip(marks, [*marks[1:], None]):
        value = rest[m.end():nxt.start() if nxt else len(rest)].strip()
        if not value:
            return None
        out.setdefault(_label(m.group(0)), value)
    return out


class _Flattener:
    """Tree → paragraphs as (text, link text, in a list item), chrome subtrees to a separate list."""

    def __init__(self):
        self.body: list[tuple[str, str, bool]] = []
        self.chrome = 0
        self.meta: dict[str, str] = {}
        self._buf: list[tuple[str, bool]] = []

    def flush(self, in_li: bool) -> None:
        raw = "".join(t for t, _ in self._buf)
        links = _collapse("".join(t for t, is_link in self._buf if is_link))
        self._buf = []
        lines = _collapse(raw).split("\n")  # several only in <pre>
        for line in lines:
            if line.strip():
                self.body.append((line, links if len(lines) == 1 else "", in_li))

    def walk(self, node: Node, *, link=False, li=False, pre=False, content=False) -> None:
        for c in node.children:
            if isinstance(c, str):
                self._buf.append((c if pre else c.replace("\n", "\x00"), link))
                continue
            if _is_chrome(c, content):
                self.chrome += 1 if c.text().strip() else 0
                continue
            if c.tag == "table" and (meta := _table_meta(c)) is not None:
                self.flush(li)
                for k, v in meta.items():
                    self.meta.setdefault(k, v)
                continue
            if c.tag == "br":
                self.flush(li)
                continue
            block = c.tag in BLOCK
            if block:
                self.flush(li)
            self.walk(c, link=link or c.tag == "a", li=li or c.tag == "li", pre=pre or c.tag == "pre",
                      content=content or c.tag in ("article", "main"))
            if block:
                self.flush(li or c.tag == "li")


def _collapse(raw: str) -> str:
    """HTML white space: a source line break (marked \\x00 by `walk`) between two Chinese characters is
    nothing, as Firefox renders it; other runs of white space are one space; <pre> line breaks stay."""
    raw = CJK_SOFT_BREAK_RE.sub("", raw).replace("\x00", " ")
    return "\n".join(re.sub(r"[ \t\r\f]+", " ", line) for line in raw.split("\n"))


def _chrome_paragraph(text: str, links: str, in_li: bool) -> bool:
    if len(text) <= MAX_CHROME_CHARS and not UI_LEFTOVER_RE.fullmatch(text) and UI_LEFTOVER_RE.fullmatch(UI_RE.sub("", text)):
        return True
    if NAV_PREFIX_RE.match(text) and len(text) <= 100:
        return True
    if links.strip() and not ATTACHMENT_RE.search(links) and (in_li or len(text) <= 30):
        return bool(LINK_LEFTOVER_RE.fullmatch(text.replace(links, "", 1)))
    return False


def read_html(data: bytes, name: str) -> Reading:
    """A saved web page → Reading: body paragraphs, the metadata table as `meta`, chrome counted in notes."""
    text, decode_note = decode_html(data, name)
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    flat = _Flattener()
    flat.walk(builder.root)
    flat.flush(False)
    body, chrome = [], flat.chrome
    for par, links, in_li in flat.body:
        par = par.strip()
        if _chrome_paragraph(par, links.strip(), in_li):
            chrome += 1
        elif (meta := _line_meta(par)) is not None:
            for k, v in meta.items():
                flat.meta.setdefault(k, v)
        else:
            body.append(par)
    paragraphs = tidy(body)
    if not paragraphs:
        raise BadDocument(f"{name} has no body text once page chrome is removed ({chrome} chrome part(s), "
                          f"{len(flat.meta)} metadata field(s)); save the page with the document's text, or "
                          "paste the text instead")
    notes = [decode_note]
    if chrome:
        notes.append(f"{chrome} part(s) of page chrome removed (navigation, scripts, page tools)")
    if flat.meta:
        notes.append(f"{len(flat.meta)} metadata field(s) read into meta: {', '.join(flat.meta)}")
    return Reading(paragraphs=paragraphs, kind="html", source=name, meta=dict(flat.meta), notes=tuple(notes))
