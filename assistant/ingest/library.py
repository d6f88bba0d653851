"""The documents users add, kept beside the seed: originals byte for byte, and a list that names them.

Layout of the data folder (default `data/`, beside `index/`; the vendored `corpus/` keeps the seed):

    library.json             {"format": 1, "documents": [{key, file, name, sha256, bytes, added_at}, …]}
    originals/<sha256>.<ext> each added file exactly as given

An original is written before the list that names it, and the list is replaced in one rename, so a crash
leaves the old list (an unnamed original is harmless and reused when the same file is added again).
Every file named by the list is checked against its sha256 when read: a damaged library is refused,
not half read. What the list holds is hashed into the index manifest (`digest`), so an index built from
another library is stale.

Adding or removing is planned first (`plan`: parse, check, choose keys — nothing written), then the index
is built from the planned catalog, then the plan is committed just before the new index goes live
(`index.build_index(…, before_live=plan.commit)`): a failure anywhere leaves library and index as they were.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .corpus import Document, check_clean, load_lexicon, qualified_key, strip_spam
from ..errors import BadDocument, DataError
from ..files import atomic_write
from .notice import check_readable, drop_chrome
from .corpus import make_document

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent.parent / "data"
LIBRARY_FILE = "library.json"
ORIGINALS = "originals"
FORMAT = 1


@dataclass(frozen=True)
class LibraryChange:
    """The library that goes live with a build: its entries, and the originals it adds (sha256 → bytes)."""

    entries: tuple["Entry", ...]
    originals: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    key: str
    file: str        # originals/<sha256>.<ext>
    name: str        # the file name it was added as
    sha256: str
    bytes: int
    added_at: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def parse_reading(reading, *, key: str | None = None) -> Document:
    """A reader's paragraphs → a checked Document: page chrome and spam out, facts read, spam guard run.

    Raises BadDocument when the text is not an official document (too little Chinese text, no body)."""
    from ..errors import CorpusError
    lexicon = load_lexicon()
    pars, meta, _ = drop_chrome(list(reading.paragraphs))
    cleaned, tampered = [], False
    for p in pars:
        p, spam = strip_spam(p, lexicon)
        tampered |= spam
        if p:
            cleaned.append(p)
    try:
        check_readable(cleaned, source=reading.source)
        doc = make_document(cleaned, source=reading.source, tampered=tampered,
                            meta={**reading.meta, **meta}, key=key)
        check_clean(doc, lexicon)
    except CorpusError as e:
        raise BadDocument(str(e)) from e
    return doc


class Library:
    def __init__(self, data_dir: Path = DEFAULT_DATA_DIR):
        self.dir = Path(data_dir)

    @property
    def list_path(self) -> Path:
        return self.dir / LIBRARY_FILE

    def entries(self) -> list[Entry]:
        if not self.list_path.exists():
            return []
        try:
            data = json.loads(self.list_path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, this program reads {FORMAT}")
            return [Entry(**e) for e in data["documents"]]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise DataError(f"{self.list_path} cannot be read ({e}); restore it from a backup or remove the data "
                            "folder to start an empty library (the seed documents are not in it)") from e

    def digest(self, entries: list[Entry] | None = None) -> str:
        """What the list names (keys and file hashes): equal digests, equal documents."""
        entries = self.entries() if entries is None else entries
        return hashlib.sha256(_list_text(entries).encode()).hexdigest()

    def original(self, entry: Entry) -> bytes:
        path = self.dir / entry.file
        try:
            data = path.read_bytes()
        except OSError as e:
            raise DataError(f"{path} (document {entry.key}, added as {entry.name}) is missing ({e.strerror}); "
                            f"restore it or `python -m assistant remove {entry.key}`") from e
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise DataError(f"{path} (document {entry.key}) does not match its sha256 in {self.list_path}: the "
                            f"original was changed or damaged; restore it or `python -m assistant remove {entry.key}`")
        return data

    def commit(self, entries: list[Entry], originals: dict) -> None:
        """Make the list name `entries`, writing first the `originals` (sha256 → bytes) it does not hold yet."""
        folder = self.dir / ORIGINALS
        folder.mkdir(parents=True, exist_ok=True)
        for entry in entries:
            data = originals.get(entry.sha256)
            if data is None:
                continue
            path = self.dir / entry.file
            if path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256:
                continue
            tmp = path.with_name(f".{path.name}.tmp")
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        atomic_write(self.list_path, _list_text(list(entries)))

    def documents(self) -> list[Document]:
        entries = self.entries()
        if not entries:
            return []
        from .readers import read_bytes
        return [parse_reading(read_bytes(self.original(e), e.name), key=e.key) for e in entries]

    def plan(self, files: list[tuple[str, bytes]], *, existing: list[Document], replace: bool = False,
             remove: tuple[str, ...] = ()) -> "Plan":
        """Parse and check the files to add (name, bytes) and the keys to remove; nothing is written.

        `existing` are every document now served (seed and library). Raises BadDocument for a file that is
        not a readable document, a file already present, or a document whose number is already present
        (unless `replace`: then the present one is replaced); UnknownClause for a key that is not in the library."""
        from ..errors import UnknownClause
        from .readers import read_bytes
        entries = self.entries()
        by_key = {e.key: e for e in entries}
        for k in remove:
            if k not in by_key:
                seed = any(d.key == k for d in existing)
                raise UnknownClause(f"{k!r} is {'a seed document (corpus/), which cannot be removed' if seed else 'not in the library'}; "
                                    f"`python -m assistant documents` lists the documents and where they come from")
        kept = [e for e in entries if e.key not in remove]
        docs = [d for d in existing if d.key not in remove]
        added: list[tuple[Entry, bytes, Document]] = []
        for name, data in files:
            sha = hashlib.sha256(data).hexdigest()
            same = next((e for e in kept if e.sha256 == sha), None) or \
                next((e for e, _, _ in added if e.sha256 == sha), None)
            if same:
                raise BadDocument(f"{name} is already in the library as document {same.key} (added as {same.name}); "
                                  "nothing was changed")
            doc = parse_reading(read_bytes(data, name))
            taken = {d.key for d in docs} | {e.key for e, _, _ in added}
            present = next((d for d in docs if doc.doc_number and d.doc_number == doc.doc_number), None) or \
                next((d for d in docs if not doc.doc_number and d.title == doc.title and d.issue_date == doc.issue_date), None)
            if present is not None:
                if not replace or present.key not in {e.key for e in kept}:
                    where = "a seed document" if present.key not in by_key else f"added as {by_key[present.key].name}"
                    raise BadDocument(
                        f"{name}: {present.doc_number or '《' + present.title + '》'} is already present as document "
                        f"{present.key} ({where}); "
                        + ("add it with --replace to replace that version" if present.key in by_key else
                           "a seed document cannot be replaced"))
                kept = [e for e in kept if e.key != present.key]
                docs = [d for d in docs if d.key != present.key]
                taken.discard(present.key)
                key = present.key
            else:
                key = doc.key if doc.key and doc.key not in taken else qualified_key(doc)
                if key in taken:
                    raise BadDocument(f"{name}: its key {key} is taken; remove the document that holds it first")
            doc = _with_key(doc, key)
            ext = Path(name).suffix.lower() or ".txt"
            entry = Entry(key, f"{ORIGINALS}/{sha}{ext}", Path(name).name, sha, len(data),
                          time.strftime("%Y-%m-%dT%H:%M:%S%z"))
            added.append((entry, data, doc))
            docs.append(doc)
        return Plan(self, kept + [e for e, _, _ in added], tuple(added), tuple(remove), tuple(docs))


def _with_key(doc: Document, key: str) -> Document:
    from dataclasses import replace
    return replace(doc, key=key)


def _list_text(entries: list[Entry]) -> str:
    return json.dumps({"format": FORMAT, "documents": [e.to_dict() for e in entries]}, ensure_ascii=False, indent=1)


@dataclass(frozen=True)
class Plan:
    """What an add or remove will make the library: its entries, the files to write, the documents served."""

    library: Library
    entries: list[Entry]
    added: tuple               # (Entry, bytes, Document)
    removed: tuple[str, ...]
    documents: tuple[Document, ...]   # every document served after the change (seed first)
    warnings: tuple[str, ...] = field(default=())

    @property
    def digest(self) -> str:
        return self.library.digest(self.entries)

    def commit(self) -> None:
        """Write the originals, then replace the list in one rename. Originals of removed documents stay
        until no entry names them (a later add of the same file reuses them); nothing is deleted here."""
        self.library.commit(self.entries, {e.sha256: data for e, data, _ in self.added})

    def change(self) -> "LibraryChange":
        """This plan as the library change a store writes with the build."""
        return LibraryChange(tuple(self.entries), {e.sha256: data for e, data, _ in self.added})
