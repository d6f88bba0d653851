"""Any government document file → paragraphs of text, so everything downstream runs the same whatever
the format: a registry of readers by file type (one module each), chosen by the suffix and checked
against the content, because uploaded files are often misnamed (a saved web page called .pdf, a .doc
renamed .docx).

    reading = read_path("吉政发〔2019〕3号.docx")
    reading.paragraphs   # ("吉林省人民政府关于…的通知", "吉政发〔2019〕3号", …)
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path, PurePath

from ...errors import BadDocument
from .docx import read_docx
from .html import read_html
from .paragraphs import Reading, control_share, split_text
from .pdf import read_pdf
from .text import read_text

__all__ = ["Reading", "MAX_BYTES", "READERS", "read_path", "read_bytes", "read_pasted"]

MAX_BYTES = 20 * 1024 * 1024

READERS: dict[str, Callable[[bytes, str], Reading]] = {
    ".txt": read_text,
    ".html": read_html,
    ".htm": read_html,
    ".docx": read_docx,
    ".pdf": read_pdf,
}
READER_BY_KIND = {"text": read_text, "html": read_html, "docx": read_docx, "pdf": read_pdf}
SUPPORTED = "plain text (.txt), a saved web page (.html/.htm), Word (.docx) or a PDF with a text layer (.pdf)"

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Formats recognised only to refuse them with a useful message.
REFUSED_MAGIC = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"), (b"{\\rtf", "an RTF document"),
    (b"Rar!", "a RAR archive"), (b"7z\xbc\xaf", "a 7-Zip archive"), (b"\x1f\x8b", "a gzip archive"),
)
TAG_RE = re.compile(rb"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
HTML_RE = re.compile(rb"<(?:!doctype\s+html|html|head|body|meta)\b", re.IGNORECASE)


def _file_name(name: str) -> str:
    """The name without folders, whichever separator the uploader used (browsers send C:\\fakepath\\x)."""
    return PurePath(str(name).replace("\\", "/")).name or "document"


def sniff(data: bytes) -> str | None:
    """The kind of document the bytes hold ("pdf", "docx", "html", "text"), None when unknown.

    Raises BadDocument for formats recognised but not read (.doc, images, archives)."""
    head = data[:1024]
    if b"%PDF-" in head:  # the PDF header may follow a few bytes of junk
        return "pdf"
    if data.startswith(OLE_MAGIC):
        return "ole"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    for magic, what in REFUSED_MAGIC:
        if data.startswith(magic):
            return what
    start = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"<") and HTML_RE.search(start):
        return "html"
    return "text" if _looks_like_text(data[:65536]) else None


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    for enc in ("utf-8", "gb18030"):
        try:
            return control_share(head.decode(enc)) <= 0.10
        except UnicodeDecodeError as e:
            if e.start >= len(head) - 4:  # a character cut by the 64 KB window
                return control_share(head[:e.start].decode(enc)) <= 0.10
    return False


def _refuse_sniffed(kind: str, name: str) -> None:
    if kind == "ole":
        raise BadDocument(f"{name} is a .doc or a password-protected Word file (an OLE compound file), which "
                          "cannot be read: open it in Word or WPS, remove any password and save it as .docx")
    if kind == "zip":
        return  # read_docx says what is missing when the archive is not a Word document
    if kind not in READER_BY_KIND:
        fix = "run OCR first or add the text/Word version" if "image" in kind else f"upload {SUPPORTED}"
        raise BadDocument(f"{name} is {kind}, not a document this assistant reads; {fix}")


def read_bytes(data: bytes, name: str) -> Reading:
    """Read a file's bytes as a document.

    Args:
        data: the whole file.
        name: its file name; the suffix picks the reader unless the content says otherwise.
    Returns:
        a Reading with the body paragraphs in document order.
    Raises:
        BadDocument: empty, larger than MAX_BYTES, an unknown or unreadable format.
    """
    name = _file_name(name)
    if not data:
        raise BadDocument(f"{name} is empty (0 bytes); upload the file again, with its content")
    if len(data) > MAX_BYTES:
        raise BadDocument(f"{name} is {len(data) / 2**20:.1f} MB, more than the {MAX_BYTES // 2**20} MB a "
                          "document may have; upload the text, or split the file")
    suffix = PurePath(name).suffix.lower()
    found = sniff(data)
    if found is not None:
        _refuse_sniffed(found, name)
        found = "docx" if found == "zip" else found
    by_suffix = next((k for k, r in READER_BY_KIND.items() if READERS.get(suffix) is r), None)
    if found is None and by_suffix is None:
        raise BadDocument(f"{name}: the type of this file is not recognised (suffix {suffix or 'none'!r}, "
                          f"content neither text nor a known format); upload {SUPPORTED}")
    # The content wins over the suffix when they disagree, except that a .html fragment without
    # <html>/<head>/<body> sniffs as text yet must be read as HTML as long as it has tags.
    kind = by_suffix if found is None else found
    if by_suffix == "html" and found == "text" and TAG_RE.search(data[:65536]):
        kind = "html"
    reading = READER_BY_KIND[kind](data, name)
    if by_suffix is not None and kind != by_suffix:
        reading = _with_note(reading, f"named {suffix} but the content is {kind}: read as {kind}")
    elif by_suffix is None:
        reading = _with_note(reading, f"type found from the content ({kind}); the suffix {suffix or '(none)'} says nothing")
    return reading


def _with_note(reading: Reading, note: str) -> Reading:
    return Reading(reading.paragraphs, reading.kind, reading.source, reading.meta, (note, *reading.notes))


def read_path(path: str | Path) -> Reading:
    """Read the file at `path` (see `read_bytes`); its size is checked before it is read."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise BadDocument(f"{path}: cannot be opened ({e.strerror}); check the path") from None
    if not path.is_file():
        raise BadDocument(f"{path} is not a file (a folder?); give the path of one document")
    if size > MAX_BYTES:
        raise BadDocument(f"{path.name} is {size / 2**20:.1f} MB, more than the {MAX_BYTES // 2**20} MB a "
                          "document may have; upload the text, or split the file")
    return read_bytes(path.read_bytes(), path.name)


def read_pasted(text: str, name: str = "pasted.txt") -> Reading:
    """Text pasted into the page → Reading (kind "pasted"): split into paragraphs as a text file is."""
    name = _file_name(name)
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise BadDocument(f"the pasted text is more than {MAX_BYTES // 2**20} MB; paste a single document")
    if control_share(text) > 0.10:
        raise BadDocument("the pasted text is mostly control characters (binary data, not a document); "
                          "paste the document's text")
    paragraphs = split_text(text)
    if not paragraphs:
        raise BadDocument("the pasted text is empty; paste the text of the document")
    return Reading(paragraphs=paragraphs, kind="pasted", source=name, meta={}, notes=())
