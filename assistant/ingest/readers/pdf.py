"""PDF with a text layer → paragraphs: pypdf's lines per page, page numbers and running headers out,
lines rejoined into the paragraphs they were wrapped from.

A PDF knows lines, not paragraphs. A line is joined to the next unless it ends a sentence clause
(。；：！？) or a responsibility note (…牵头…）), is much shorter than a full line (the last line of a paragraph, a title line), or the
next line opens a new numbered item (一、 （一） 1. 第三条) or is a document number or date line.
Chinese lines join without a space. Scanned PDFs (pages but no text) are refused: OCR is not done here.
"""
from __future__ import annotations

import io
import math
import re
import unicodedata

from ...errors import BadDocument
from .paragraphs import Reading, tidy

# Fewer non-space characters than this per page on average: a scan (or pictures of text).
MIN_CHARS_PER_PAGE = 10
SENTENCE_END = set("。；：！？!?;:")
CLOSERS = "”’」』）)】〕》\"'"
MARKER_RE = re.compile(r"^(?:[一二三四五六七八九十百]+、|[（(][一二三四五六七八九十百]+[）)]|\d+[.．、](?!\d)|[（(]\d+[）)]"
                       r"|[①-⑳]|第[一二三四五六七八九十百零〇\d]+[条章节部分]|附件|附表)")
# Lines that stand alone: a document number (吉政发〔2019〕3号) or a date line.
ALONE_RE = re.compile(r"^(?:\S{2,12}[〔\[［(（]\d{4}[〕\]］)）]\d+号|\d{4}年\d{1,2}月\d{1,2}日|[〇零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日)$")
PAGE_NO_RE = re.compile(r"^(?:[-—–－―~〜]\s*)?\d{1,4}(?:\s*[-—–－―~〜])?$|^第\s*\d+\s*页(?:\s*[,，/／]?\s*共\s*\d+\s*页)?$"
                        r"|^共\s*\d+\s*页[,，\s]*第\s*\d+\s*页$|^\d+\s*/\s*\d+$|^page\s*\d+(?:\s*of\s*\d+)?$", re.I)
# A clause that ends with its responsibility note, "（省发展改革委牵头，省财政厅参与）", ends there.
RESPONSIBILITY_END_RE = re.compile(r"[（(][^（()）]*(?:牵头|负责|参与|配合)[^（()）]*[）)]$")
EDGE = 2             # lines at the top and bottom of a page where page numbers and running heads live
RUNNING_SHARE = 0.6  # a line on the edge of at least this share of pages is a running header or footer
SHORT_LINE = 0.7     # a line narrower than this share of a full line ends its paragraph


def _width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def _key(line: str) -> str:
    return re.sub(r"\d+", "#", "".join(line.split()))


def strip_page_chrome(pages: list[list[str]]) -> tuple[list[list[str]], int]:
    """Remove page numbers and running headers/footers from the top and bottom lines of each page."""
    counts: dict[str, int] = {}
    for lines in pages:
        for k in {_key(x) for x in lines[:EDGE] + lines[-EDGE:]}:
            counts[k] = counts.get(k, 0) + 1
    need = max(2, math.ceil(RUNNING_SHARE * len(pages)))
    running = {k for k, n in counts.items() if n >= need} if len(pages) >= 2 else set()
    out, removed = [], 0
    for lines in pages:
        keep = []
        for i, line in enumerate(lines):
            edge = i < EDGE or i >= len(lines) - EDGE
            if edge and (PAGE_NO_RE.match(line) or _key(line) in running):
                removed += 1
            else:
                keep.append(line)
        out.append(keep)
    return out, removed


def _ends_paragraph(line: str, full: float) -> bool:
    core = line.rstrip(CLOSERS) or line
    return (core[-1] in SENTENCE_END or _width(line) < SHORT_LINE * full or bool(ALONE_RE.match(line))
            or bool(RESPONSIBILITY_END_RE.search(line)))


def _glue(a: str, b: str) -> str:
    """A space only between two Latin words; Chinese lines (and numbers cut by a line end) join directly."""
    return " " if a[-1].isascii() and (a[-1].isalnum() or a[-1] in ",.;:") and b[0].isascii() and b[0].isalpha() else ""


def join_lines(lines: list[str]) -> list[str]:
    """Lines of the whole document (pages in order) → paragraphs."""
    widths = sorted(_width(x) for x in lines)
    full = widths[int(0.9 * (len(widths) - 1))] if widths else 0
    paragraphs: list[str] = []
    open_ = False
    for line in lines:
        if open_ and not MARKER_RE.match(line) and not ALONE_RE.match(line):
            paragraphs[-1] += _glue(paragraphs[-1], line) + line
        else:
            paragraphs.append(line)
        open_ = not _ends_paragraph(line, full)
    return paragraphs


def _open(data: bytes, name: str):
    import pypdf  # imported here: only PDF uploads pay for it
    from pypdf.errors import DependencyError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # an owner password alone still lets anyone read
            except DependencyError:
                raise BadDocument(f"{name} is encrypted with AES, which needs the optional 'cryptography' "
                                  "package; save an unprotected copy (print to PDF) and upload that") from None
            if not opened:
                raise BadDocument(f"{name} is protected by a password; save a copy without the password and upload it")
        return reader, len(reader.pages)
    except BadDocument:
        raise
    except Exception as e:  # pypdf raises many kinds on damaged files; all mean the same to the user
        raise BadDocument(f"{name} is not a readable PDF ({type(e).__name__}: {e}); open it in a PDF viewer "
                          "and save or print it to a new PDF") from None


def read_pdf(data: bytes, name: str) -> Reading:
    """A PDF → Reading: the text layer, page chrome removed, wrapped lines rejoined into paragraphs."""
    reader, n_pages = _open(data, name)
    if n_pages == 0:
        raise BadDocument(f"{name} has no pages; upload the complete PDF")
    try:
        texts = [page.extract_text() or "" for page in reader.pages]
    except Exception as e:  # same reason as in _open
        raise BadDocument(f"{name}: the text of a page cannot be extracted ({type(e).__name__}: {e}); "
                          "save or print it to a new PDF, or upload the Word version") from None
    chars = sum(len("".join(t.split())) for t in texts)
    if chars < MIN_CHARS_PER_PAGE * n_pages:
        raise BadDocument(f"{name} has {n_pages} page(s) but only {chars} character(s) of text: it has no text "
                          "layer (a scanned image); run OCR first or add the text/Word version")
    pages = [[x.strip() for x in t.splitlines() if x.strip()] for t in texts]
    pages, removed = strip_page_chrome(pages)
    paragraphs = tidy(join_lines([x for lines in pages for x in lines]))
    notes = [f"{n_pages} page(s) read from the text layer"]
    if removed:
        notes.append(f"{removed} page header(s)/footer(s)/number(s) removed")
    return Reading(paragraphs=paragraphs, kind="pdf", source=name, meta={}, notes=tuple(notes))
