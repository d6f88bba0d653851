"""Clauses → what finds them: encoders, passages, BM25 and the zh↔en dictionary, the index and its stores
(folder, PostgreSQL), retrieval and fusion, and the add/remove that changes library and index atomically
(changes). Knows no wording of answers."""
