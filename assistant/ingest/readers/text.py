"""Plain text files → paragraphs: the encoding found (BOM, UTF-8, else GB18030), line ends unified."""
from __future__ import annotations

import codecs

from ...errors import BadDocument
from .paragraphs import Reading, control_share, split_text

# Checked longest first: the UTF-32 LE BOM begins with the UTF-16 LE one.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
ENCODING_NAMES = {"utf-8-sig": "UTF-8 (with BOM)", "utf-16": "UTF-16 (with BOM)", "utf-32": "UTF-32 (with BOM)",
                  "utf-8": "UTF-8", "gb18030": "GB18030"}
# More than this share of control or replacement characters: binary data, not text.
MAX_CONTROL_SHARE = 0.10


def bom_encoding(data: bytes) -> str | None:
    return next((enc for bom, enc in BOMS if data.startswith(bom)), None)


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Bytes → (text, encoding used). Strict UTF-8 first: GBK text is almost never valid UTF-8, while
    UTF-8 text often decodes as GB18030 into nonsense, so the order decides."""
    enc = bom_encoding(data)
    if enc:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError as e:
            raise BadDocument(f"{name} starts with a {ENCODING_NAMES[enc]} byte-order mark but is not valid "
                              f"{ENCODING_NAMES[enc]} ({e.reason} at byte {e.start}); save it again as UTF-8") from None
    if b"\x00" in data:
        raise BadDocument(f"{name} holds NUL bytes: it is a binary file (or UTF-16 text without a byte-order "
                          "mark), not a text document; save the text as UTF-8, or upload the .docx/.pdf itself")
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            pass
    return data.decode("gb18030", errors="replace"), "gb18030-replace"


def check_not_binary(text: str, name: str) -> None:
    share = control_share(text)
    if share > MAX_CONTROL_SHARE:
        raise BadDocument(f"{name} decodes to {share:.0%} control or undecodable characters (at most "
                          f"{MAX_CONTROL_SHARE:.0%} for text): it is a binary file, not a text document; "
                          "upload a .txt, .html, .docx or .pdf with the document's text")


def read_text(data: bytes, name: str) -> Reading:
    """A plain text file → Reading; see `decode` for the encodings tried."""
    text, enc = decode(data, name)
    check_not_binary(text, name)
    if enc == "gb18030-replace":
        bad = text.count("\ufffd")
        note = f"decoded as GB18030; {bad} undecodable byte sequence(s) shown as \ufffd"
    else:
        note = f"decoded as {ENCODING_NAMES[enc]}"
    paragraphs = split_text(text)
    if not paragraphs:
        raise BadDocument(f"{name} holds only white space; upload the file with the document's text")
    return Reading(paragraphs=paragraphs, kind="text", source=name, meta={}, notes=(note,))
