"""What a store holds and the one protocol every backend implements.

A `Build` is everything one version of the index consists of, as plain values: the manifest, the clause
records, the passages (row i is vector i), the vectors per encoder, the BM25 tokens per passage, the
vocabulary with its vectors, and the change to the library of added documents that goes live with it.
`index.make_build` computes one; a store writes it all or nothing and loads the live one back as a
`index.LoadedIndex` whose searches rank exactly as the folder backend's do.
"""
from __future__ import annotations

import hashlib
import json
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from ...ingest.library import LibraryChange  # noqa: F401 — part of a Build, defined with the library

if TYPE_CHECKING:
    from pathlib import Path

    from ..index import LoadedIndex
    from ...ingest.library import Entry, Library


@dataclass(frozen=True)
class Build:
    name: str                      # build-<time>-<id>: the index version once it is live
    manifest: dict                 # format, encoders, corpus and library sha256, counts, versions
    clauses: list[dict]            # records.clause_to_dict of every clause, in catalog order
    passages: list[dict]           # index.passage_row; row i is vector i
    vectors: dict                  # encoder id → (passages, dim) float32, L2-normalised
    tokens: list[list[str]]        # per passage, the tokens BM25 indexes (the index's jieba tokenizer)
    vocabulary: list[str]          # the documents' content words (bridge.py)
    vocab_vectors: dict            # encoder id → (terms, dim) float32
    library: LibraryChange | None = None   # None: the library stays as it is

    def digests(self) -> dict:
        return part_digests(self.clauses, self.passages, self.tokens, self.vocabulary, self.vectors,
                            self.vocab_vectors)


def reusable(keys: list[str], vectors: np.ndarray) -> dict:
    """Passage key → its vector, for a rebuild to reuse; rows an encoder did not embed (zero: the sentences of
    an encoder without sentence vectors) are left out, so a sentence that has the same text as a passage does
    not lend the passage its zero row."""
    return {k: v for k, v in zip(keys, vectors) if v.any()}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def jsonl(rows: list[dict]) -> str:
    """Rows as the JSON lines the folder backend writes (UTF-8, not ASCII-escaped)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def vector_bytes(v: np.ndarray) -> bytes:
    return np.ascontiguousarray(v, dtype="<f4").tobytes()


def part_digests(clauses, passages, tokens, vocabulary, vectors: dict, vocab_vectors: dict) -> dict:
    """sha256 of each part of a build in one canonical form: what a backend that stores rows instead of files
    checks on load (a changed or missing row changes its part's digest)."""
    out = {"clauses": _sha(jsonl(clauses).encode()), "passages": _sha(jsonl(passages).encode()),
           "tokens": _sha(json.dumps(tokens, ensure_ascii=False).encode()),
           "vocabulary": _sha(json.dumps(vocabulary, ensure_ascii=False).encode())}
    out.update({f"vectors.{k}": _sha(vector_bytes(v)) for k, v in vectors.items()})
    out.update({f"vocab.{k}": _sha(vector_bytes(v)) for k, v in vocab_vectors.items()})
    return out


@runtime_checkable
class Store(Protocol):
    """One index: its live build, the builds before it, the library of added documents that goes with it."""

    def describe(self) -> str:
        """Where the store is, for messages and logs (never a password)."""

    def version(self) -> str | None:
        """The live build's name, or None when nothing was built yet."""

    def changed(self, version: str | None, *, timeout: float = 0.0) -> str | None:
        """The live version when it is not `version` (waiting up to `timeout` seconds for it), else None."""

    def manifest(self) -> dict:
        """The live build's manifest (unchecked: to pick encoders); raises errors.IndexError_ when there is none."""

    def lock(self) -> AbstractContextManager:
        """Held while a build is computed and written; raises errors.BuildInProgress when another holds it."""

    def library(self) -> "Library":
        """The added documents of the live build."""

    def previous_vectors(self, enc_id: str, name: str) -> tuple[dict, str]:
        """The live build's vectors by passage key for encoder `enc_id` named `name`, to reuse; and why none
        could be reused when the live build has them but they cannot be read ("" otherwise)."""

    def previous_vocabulary(self, names: dict) -> dict:
        """Per encoder id, term → vector of the live build when it was made by the same encoder (`names`)."""

    def write(self, build: Build) -> str:
        """Make `build` (and its library change) live, all or nothing; return its version."""

    def load(self, *, corpus_dir: "Path") -> "LoadedIndex":
        """The live build, checked (complete, undamaged, of this corpus and library), ready to search."""
