"""The parsed corpus in one object: documents, their clauses and each clause's records."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .clauses import Clause, all_clauses, find_clause
from .corpus import DEFAULT_CORPUS_DIR, Document, load_documents
from ..errors import UnknownClause
from .records import ClauseRecords, clause_records, first_unit_leads


@dataclass(frozen=True)
class Catalog:
    documents: tuple[Document, ...]
    clauses: tuple[Clause, ...]
    records: dict  # clause_id → ClauseRecords

    @classmethod
    def from_documents(cls, docs: list[Document]) -> "Catalog":
        clauses = all_clauses(docs)
        first_leads = {d.key: first_unit_leads(d.text) for d in docs}
        return cls(tuple(docs), tuple(clauses),
                   {c.clause_id: clause_records(c, first_leads=first_leads[c.doc_key]) for c in clauses})

    @classmethod
    def load(cls, corpus_dir: Path = DEFAULT_CORPUS_DIR, data_dir: Path | None = None) -> "Catalog":
        """The seed documents of `corpus_dir` and the documents added to the library in `data_dir`."""
        from .library import DEFAULT_DATA_DIR, Library
        return cls.from_documents(load_documents(corpus_dir) + Library(data_dir or DEFAULT_DATA_DIR).documents())

    @cached_property
    def by_id(self) -> dict[str, Clause]:
        return {c.clause_id: c for c in self.clauses}

    @cached_property
    def unit_names(self) -> frozenset[str]:
        """Every agency or government named in a responsibility record."""
        return frozenset(u.name for r in self.records.values() for x in r.responsibilities for u in x.units)

    @cached_property
    def _children(self) -> dict[str, list[Clause]]:
        out: dict[str, list[Clause]] = {}
        for c in self.clauses:
            if c.parent_id:
                out.setdefault(c.parent_id, []).append(c)
        return out

    def children(self, clause_id: str) -> list[Clause]:
        """The clauses directly under a clause, in document order."""
        return self._children.get(clause_id, [])

    def document(self, key: str) -> Document:
        for d in self.documents:
            if d.key == key or d.doc_number == key:
                return d
        keys = ", ".join(d.key for d in self.documents)
        raise UnknownClause(f"no document {key!r}; the documents are {keys}")

    def find(self, query: str) -> Clause:
        return find_clause(list(self.clauses), query)

    def records_of(self, clause_id: str) -> ClauseRecords:
        return self.records[clause_id]
