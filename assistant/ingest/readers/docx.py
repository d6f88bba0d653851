"""Word .docx → paragraphs, with stdlib zipfile + ElementTree (no python-docx at runtime).

Body paragraphs and tables in document order; headers, footers, footnotes and comments are other
parts of the package and are not read. Word's automatic numbering is not in the text: the printed
marker (一、 （一） 1.) is rendered from word/numbering.xml, or the clause markers would be lost.
Table rows become one paragraph each, cells joined by a tab — the character Word itself puts between
cells when a table is copied as text — so the cells stay separable and no cell text is altered.
"""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from xml.etree import ElementTree as ET

from ...errors import BadDocument
from .numbering import Numbering
from .paragraphs import Reading, tidy

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Zip-bomb guard, checked on the sizes the archive declares before anything is decompressed; reads
# are bounded too, in case a member lies about its size. Small XML parts can compress 100× honestly,
# so the ratio is only held against members of more than RATIO_FLOOR bytes.
MAX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024
# Containers whose children are read as if they stood in their place (tracked insertions, links, fields).
TRANSPARENT = {W + t for t in ("hyperlink", "ins", "smartTag", "customXml", "fldSimple", "sdt", "sdtContent",
                               "moveTo", "dir", "bdo")}
SKIPPED = {W + t for t in ("del", "moveFrom", "pPr", "rPr", "instrText", "delText")}
PICTURES = {W + "drawing", W + "pict", W + "object", MC + "AlternateContent"}
OTHER_OFFICE = (("xl/workbook.xml", "an Excel workbook"), ("ppt/presentation.xml", "a PowerPoint presentation"),
                ("content.xml", "an OpenDocument file (.odt)"))


def _refuse(name: str, why: str, fix: str) -> BadDocument:
    return BadDocument(f"{name} {why}; {fix}")


def open_docx(data: bytes, name: str) -> zipfile.ZipFile:
    """The archive, once every member's declared size and compression ratio have been checked."""
    if data.startswith(OLE_MAGIC):
        raise _refuse(name, "is a .doc or a password-protected Word file (an OLE compound file), not a .docx",
                      "open it in Word or WPS, remove any password and save it as .docx")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as e:
        raise _refuse(name, f"is not a readable .docx (not a zip archive: {e})",
                      "open it in Word or WPS and save it again as .docx") from None
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED:
        raise _refuse(name, f"would decompress to {total / 2**20:.0f} MB (at most {MAX_UNCOMPRESSED // 2**20} MB "
                      "for a document): a zip bomb or not a document", "upload the document's own .docx")
    for i in infos:
        if i.file_size > RATIO_FLOOR and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise _refuse(name, f"has a member {i.filename} that would expand {i.file_size // max(i.compress_size, 1)}"
                          f"× (at most {MAX_RATIO}×): a zip bomb or a damaged file", "upload the document's own .docx")
        if i.flag_bits & 0x1:
            raise _refuse(name, f"has an encrypted member {i.filename}", "remove the password and save it as .docx")
    names = set(zf.namelist())
    if "word/document.xml" not in names:
        what = next((w for part, w in OTHER_OFFICE if part in names), "a zip archive")
        raise _refuse(name, f"is {what} without word/document.xml, not a Word document",
                      "upload the document as .docx, .pdf, .html or .txt")
    return zf


def read_part(zf: zipfile.ZipFile, part: str, name: str) -> ET.Element | None:
    """One XML part, read with a bounded size and parsed without DTDs (no entity expansion); None if absent."""
    if part not in zf.namelist():
        return None
    try:
        with zf.open(part) as f:
            raw = f.read(MAX_UNCOMPRESSED + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as e:
        raise _refuse(name, f"is damaged: its part {part} cannot be decompressed ({e})",
                      "open it in Word or WPS and save it again as .docx") from None
    if len(raw) > MAX_UNCOMPRESSED:
        raise _refuse(name, f"has a part {part} larger than it declares (over {MAX_UNCOMPRESSED // 2**20} MB): "
                      "a zip bomb or a damaged file", "upload the document's own .docx")
    if b"<!DOCTYPE" in raw:  # Office never writes one; a DTD can only serve entity tricks here
        raise _refuse(name, f"has a DOCTYPE in {part}, which Word never writes", "save it again from Word as .docx")
    try:
        return ET.fromstring(raw)
    except ET.ParseError as e:
        raise _refuse(name, f"has malformed XML in {part} ({e})", "open it in Word or WPS and save it again") from None


class _Body:
    """Walks word/document.xml collecting paragraphs; counts what it could not render."""

    def __init__(self, numbering: Numbering):
        self.numbering = numbering
        self.paragraphs: list[str] = []
        self.pictures = 0

    def paragraph_texts(self, p: ET.Element) -> list[str]:
        """One w:p → its text; a line break (w:br, w:cr) starts a new paragraph."""
        parts = [self.numbering.marker(p)]
        self._runs(p, parts)
        return parts

    def _runs(self, el: ET.Element, parts: list[str]) -> None:
        for c in el:
            if c.tag in SKIPPED:
                continue
            if c.tag in PICTURES:
                self.pictures += any(x.tag == W + "txbxContent" for x in c.iter())
            elif c.tag == W + "t":
                parts[-1] += c.text or ""
            elif c.tag == W + "tab":
                parts[-1] += "\t"
            elif c.tag in (W + "br", W + "cr"):
                parts.append("")
            elif c.tag == W + "noBreakHyphen":
                parts[-1] += "-"
            elif c.tag == W + "r" or c.tag in TRANSPARENT:
                self._runs(c, parts)

    def cell_text(self, tc: ET.Element) -> str:
        texts = []
        for c in tc:
            if c.tag == W + "p":
                texts += self.paragraph_texts(c)
            elif c.tag == W + "tbl":
                texts += [" ".join(self.cell_text(x) for x in tr.findall(W + "tc")) for tr in c.findall(W + "tr")]
            elif c.tag in TRANSPARENT:
                texts.append(self.cell_text(c))
        return " ".join(t.strip() for t in texts if t.strip())

    def walk(self, container: ET.Element) -> None:
        for c in container:
            if c.tag == W + "p":
                self.paragraphs += self.paragraph_texts(c)
            elif c.tag == W + "tbl":
                for tr in c.findall(W + "tr"):  # a nested table is read inside its cell
                    self.paragraphs.append("\t".join(self.cell_text(tc) for tc in tr.findall(W + "tc")))
            elif c.tag in TRANSPARENT:
                self.walk(c)


def _core_meta(zf: zipfile.ZipFile, name: str) -> dict[str, str]:
    core = read_part(zf, "docProps/core.xml", name)
    if core is None:
        return {}
    found = {"title": core.find("{http://purl.org/dc/elements/1.1/}title"),
             "created": core.find("{http://purl.org/dc/terms/}created")}
    return {k: el.text.strip() for k, el in found.items() if el is not None and el.text and el.text.strip()}


def read_docx(data: bytes, name: str) -> Reading:
    """A .docx → Reading: body paragraphs and table rows in order, numbering markers rendered."""
    zf = open_docx(data, name)
    document = read_part(zf, "word/document.xml", name)
    body = document.find(W + "body")
    if body is None:
        raise _refuse(name, "has no w:body in word/document.xml", "open it in Word or WPS and save it again")
    numbering = Numbering(read_part(zf, "word/numbering.xml", name), read_part(zf, "word/styles.xml", name))
    walker = _Body(numbering)
    walker.walk(body)
    paragraphs = tidy(walker.paragraphs)
    if not paragraphs:
        raise _refuse(name, "has no text in its body (only pictures or an empty page?)",
                      "if it is a scan, run OCR first or add the text version")
    notes = list(numbering.notes())
    if walker.pictures:
        notes.append(f"{walker.pictures} text box(es) or drawing(s) with text not read")
    return Reading(paragraphs=paragraphs, kind="docx", source=name, meta=_core_meta(zf, name), notes=tuple(notes))

