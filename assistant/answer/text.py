"""Character-level text comparison shared by the answer routes: NFKC and bigram overlap."""
from __future__ import annotations

import re
import unicodedata


def norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def bigrams(s: str) -> set[str]:
    s = re.sub(r"[\s,，。;；:：、()（）“”\"?？!！《》]", "", norm(s).lower())
    return {s[i:i + 2] for i in range(len(s) - 1)}


def overlap(query_bigrams: set[str], text: str) -> float:
    """Share of the query's bigrams found in `text`."""
    b = bigrams(text)
    return len(query_bigrams & b) / (len(query_bigrams) or 1)
