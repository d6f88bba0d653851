"""Kinds of answer. Each route is a small module with `answer(q, ctx) -> Answer | None`: it says whether it
applies to the parsed question (None when not) and answers. `Answerer` tries them in `ROUTES` order before
retrieval; a new kind of answer is a new module here, not another branch in the answerer.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ...ingest.catalog import Catalog
from ...ingest.glossary import Glossary
from ...search.retrieval import Retriever


@dataclass
class Context:
    """What routes read: the parsed corpus, the glossary and renderings, and the retriever."""
    catalog: Catalog
    glossary: Glossary
    renderings: dict
    retriever: Retriever

    @cached_property
    def headings(self) -> list:
        """(heading, clause) of each clause with content that a drafter may name by its heading (lookup.py): read
        once, not for every question."""
        from .lookup import named_headings
        return named_headings(self.catalog)

    @cached_property
    def agencies(self) -> list[str]:
        """Every agency name the documents or the glossary know, longest first."""
        return sorted(self.catalog.unit_names | set(self.glossary.agencies()), key=len, reverse=True)


def pre_retrieval_routes():
    """Routes that answer without ranking clauses, in the order they are tried."""
    from . import document, lookup, tasks
    return (lookup, document, tasks)
