"""zh ↔ en glossary of the documents' agencies, places and key terms (data in data/glossary.tsv)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import DataError

GLOSSARY_PATH = Path(__file__).resolve().parent.parent / "data" / "glossary.tsv"
CJK_RE = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Glossary:
    zh_to_en: dict          # 省国土资源厅 → Provincial Department of Land and Resources
    en_to_zh: tuple         # (english variant lowercased, zh), longest variant first
    kinds: dict             # zh → agency | place | term
    aliases: dict = None    # other names of an agency → the name the documents use (省环境保护厅 → 省环保厅)

    def canonical(self, name: str) -> str:
        return (self.aliases or {}).get(name, name)

    def to_english(self, zh: str) -> str | None:
        return self.zh_to_en.get(zh)

    def agency_english(self, zh: str) -> str:
        """English for an agency name, composing 长春市等有关地方政府 / 白城市政府 from known parts."""
        if zh in self.zh_to_en:
            return self.zh_to_en[zh]
        if "等" in zh:
            head, _, tail = zh.partition("等")
            tail_en = self.zh_to_en.get(tail, tail)
            return f"{self.agency_english(head)} and other {tail_en[0].lower() + tail_en[1:]}"
        if zh.endswith("政府") and zh[:-2] in self.zh_to_en:
            return f"{self.zh_to_en[zh[:-2]]} Government"
        return zh

    def english_terms(self, question: str) -> list[str]:
        """The Chinese terms whose English names occur in `question` (longest match first, no overlaps)."""
        q = " " + re.sub(r"[^a-z0-9%\-' ]+", " ", question.lower().replace("'s ", " ")) + " "
        found = []
        for en, zh in self.en_to_zh:
            pat = f" {en} "
            if pat in q:
                found.append(zh)
                q = q.replace(pat, " | ")
        return found

    def agencies(self) -> list[str]:
        return [zh for zh, k in self.kinds.items() if k == "agency"]


def is_english(text: str) -> bool:
    """A question is English when it has Latin words and no Chinese characters."""
    return not CJK_RE.search(text) and bool(re.search(r"[A-Za-z]{2,}", text))


def _data_lines(path: Path, what: str) -> list[tuple[int, str]]:
    """(line number, line) of a data file that ships with the package; a clear error when it does not."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path} ({what}) cannot be read ({e}); it ships with the package: restore it with "
                        f"`git checkout -- assistant/data/{Path(path).name}` or reinstall the package") from e
    return [(i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=2)
def load_glossary(path: Path = GLOSSARY_PATH) -> Glossary:
    zh_to_en, pairs, kinds, aliases = {}, [], {}, {}
    for number, line in _data_lines(path, "the zh-en glossary"):
        try:
            zh, en, kind = line.split("\t")
        except ValueError:
            raise DataError(f"{path}:{number} has {line.count(chr(9)) + 1} tab-separated fields, the glossary "
                            f"needs 3 (zh, en, kind): {line[:60]!r}; fix that line") from None
        if kind == "alias":
            aliases[zh] = en
            continue
        variants = [v.strip() for v in en.split("|") if v.strip()]
        zh_to_en.setdefault(zh, variants[0])
        kinds.setdefault(zh, kind)
        pairs += [(re.sub(r"[^a-z0-9%\-' ]+", " ", v.lower()).strip(), zh) for v in variants]
    pairs.sort(key=lambda p: -len(p[0]))
    return Glossary(zh_to_en, tuple(pairs), kinds, aliases)


RENDERINGS_PATH = GLOSSARY_PATH.parent / "renderings_en.jsonl"


@lru_cache(maxsize=2)
def load_renderings(path: Path = RENDERINGS_PATH) -> dict[str, str]:
    """Unofficial English renderings of clauses, by clause id (data/renderings_en.jsonl).

    Raises DataError when the file is missing or a line is not a {"clause_id", "en"} object: without it
    English questions lose the rendering passages they are matched against, so it is not optional."""
    out = {}
    for number, line in _data_lines(path, "the English renderings"):
        try:
            row = json.loads(line)
            out[row["clause_id"]] = row["en"]
        except (ValueError, KeyError, TypeError) as e:
            raise DataError(f"{path}:{number} is not a JSON object with \"clause_id\" and \"en\" ({e!r}); "
                            "fix that line") from e
    return out
