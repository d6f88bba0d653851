"""What every reader returns — a `Reading` — and the paragraph cleanup they all share.

Downstream, the notice parser keeps clause texts as verbatim slices of these paragraphs, so cleanup
touches only what no reader of the printed page could see: spacing at the ends, invisible characters,
the several kinds of typographic space. It never rewrites a visible character (no NFKC: that would
turn （一） into (一) and ０ into 0).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reading:
    """One file read as text: body paragraphs in document order, plus what was found about it."""

    paragraphs: tuple[str, ...]   # each stripped, none empty, none holding a line break
    kind: str                     # "text" | "html" | "docx" | "pdf" | "pasted"
    source: str                   # the file name as given, without folders
    meta: dict[str, str] = field(default_factory=dict)  # label → value from a metadata table or properties
    notes: tuple[str, ...] = ()   # what the reader did that a person should know


# Runs of 2+ spaces (ASCII or full-width) separate paragraphs in pages flattened to one line; the
# gazette page is split the same way (assistant/corpus.py:split_paragraphs).
PARA_BREAK_RE = re.compile(r"[ \t\u3000]*\n\s*|[ \u3000]{2,}")
# No-break and typographic spaces (&nbsp; &ensp; &emsp; &thinsp; …) look like a space: one ASCII space.
# U+3000 is kept: it is a character Chinese documents type on purpose.
_SPACES_RE = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f]")
# Zero-width characters and a stray BOM are invisible and break matching of the words around them.
_INVISIBLE_RE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")
# NFC maps CJK compatibility ideographs (U+F900–U+FAFF, U+2F800–U+2FA1F) to other code points:
# those are left as they are, the rest of the paragraph is composed.
_CJK_COMPAT_RE = re.compile(r"([\uf900-\ufaff\U0002f800-\U0002fa1f]+)")


def nfc_safe(text: str) -> str:
    """NFC, except that CJK compatibility ideographs keep their code points."""
    if unicodedata.is_normalized("NFC", text):
        return text
    parts = _CJK_COMPAT_RE.split(text)
    return "".join(p if i % 2 else unicodedata.normalize("NFC", p) for i, p in enumerate(parts))


def tidy(paragraphs: Iterable[str]) -> tuple[str, ...]:
    """Paragraphs → stripped, non-empty, one-line paragraphs (a line break inside one starts another)."""
    out = []
    for par in paragraphs:
        par = nfc_safe(_SPACES_RE.sub(" ", _INVISIBLE_RE.sub("", par)))
        for line in par.splitlines():
            line = line.strip()
            if line:
                out.append(line)
    return tuple(out)


FLATTENED_LINE = 200  # a line longer than this that holds runs of 2+ spaces is a flattened page: split there


def split_text(text: str) -> tuple[str, ...]:
    """Plain text → paragraphs: one per line; a long line (a page flattened to one) is split at runs of 2+
    spaces, while a short line keeps them (第一章  总  则, a note whose clauses are set apart by spaces)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES_RE.sub(" ", _INVISIBLE_RE.sub("", text))
    out = []
    for line in text.split("\n"):
        out += PARA_BREAK_RE.split(line) if len(line) > FLATTENED_LINE else [line]
    return tidy(out)


def control_share(text: str) -> float:
    """Share of the non-space characters that are control characters or U+FFFD (a sign of binary data)."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    bad = sum(1 for c in chars if c == "\ufffd" or unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn"))
    return bad / len(chars)
