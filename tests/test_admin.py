"""The page's document area (ui_admin.py): handlers called directly, on a tmp library and a tmp copy of an index.

What must hold: nothing is shown or done without the token; a preview changes nothing; a bad file gives a
message (no paths) and changes nothing — library.json and the index's CURRENT as they were, the upload deleted;
a confirmed add is answered from at once; seed documents stay.
"""
import json
import shutil
import sys
from pathlib import Path

import pytest

from assistant.ingest.corpus import DEFAULT_CORPUS_DIR

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from make_formats import to_docx, to_pdf  # noqa: E402

from ui_admin import AdminArea, TokenError, read_token  # noqa: E402

TOKEN = "correct-horse-battery-staple"
DOCS = Path(__file__).parent / "fixtures" / "documents"
JIUYE = DOCS / "guofa_2018_39_cujin_jiuye.txt"


def paragraphs(path: Path) -> list[str]:
    return [x.strip() for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


# ---- the token ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("file_text, env, message", [
    (None, {}, "--admin needs a token"),
    (None, {"ASSISTANT_ADMIN_TOKEN": "short"}, "has 5 characters; it needs at least 16"),
    ("  \n", {}, "--admin needs a token"),
    ("fifteen-chars!!\n", {"ASSISTANT_ADMIN_TOKEN": TOKEN}, "has 15 characters"),   # the file wins
])
def test_a_missing_or_short_token_is_refused(tmp_path, file_text, env, message):
    path = None
    if file_text is not None:
        path = tmp_path / "token"
        path.write_text(file_text, encoding="utf-8")
    with pytest.raises(TokenError, match=message):
        read_token(path, env)


def test_the_token_comes_from_the_file_or_the_environment(tmp_path):
    (tmp_path / "token").write_text(TOKEN + "\n", encoding="utf-8")
    assert read_token(tmp_path / "token", {}) == TOKEN
    assert read_token(None, {"ASSISTANT_ADMIN_TOKEN": TOKEN}) == TOKEN
    with pytest.raises(TokenError, match="cannot be read"):
        read_token(tmp_path / "missing", {})


def test_the_ui_refuses_to_start_admin_without_a_token(tmp_path):
    import subprocess
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    p = subprocess.run([sys.executable, "ui.py", "--admin"], capture_output=True, text=True, env=env,
                       cwd=Path(__file__).resolve().parent.parent, timeout=120)
    assert p.returncode == 2 and "--admin needs a token" in p.stderr


# ---- the area, on a tmp library and index ------------------------------------------------------------------

class StubPage:
    live = None


def area_on(tmp_path, index: Path) -> AdminArea:
    (tmp_path / "uploads").mkdir(exist_ok=True)
    return AdminArea(StubPage(), token=TOKEN, corpus_dir=DEFAULT_CORPUS_DIR, data_dir=tmp_path / "data",
                     index_dir=index, upload_dir=tmp_path / "uploads")


def upload(area: AdminArea, name: str, data: bytes) -> str:
    """A file as Gradio leaves an upload: in a folder of its own in the upload folder."""
    folder = area.upload_dir / f"u{len(list(area.upload_dir.iterdir()))}"
    folder.mkdir()
    (folder / name).write_bytes(data)
    return str(folder / name)


def state(tmp_path, index: Path) -> tuple:
    lib = tmp_path / "data" / "library.json"
    return (lib.read_text(encoding="utf-8") if lib.exists() else None,
            (index / "CURRENT").read_text(encoding="utf-8"), sorted(p.name for p in index.iterdir()))


@pytest.fixture
def index(index_dir, tmp_path):
    """A copy of the session's index: adds build next to it, never next to the shared one."""
    return Path(shutil.copytree(index_dir, tmp_path / "index"))


def test_nothing_is_shown_or_done_without_the_token(tmp_path):
    area = area_on(tmp_path, tmp_path / "no-index")
    for token in ("", "wrong", TOKEN[:-1], TOKEN + " "):
        visible, message, _, _ = area.unlock(token)
        assert visible["visible"] is False and "not the admin token" in message
        html, pending, button = area.preview(token, upload(area, "a.txt", JIUYE.read_bytes()), "zh")
        assert "not the admin token" in html and pending is None and button["interactive"] is False
        assert area.confirm(token, ("a.txt", b"x"))[0].count("not the admin token") == 1
        assert "not the admin token" in area.ask_remove(token, "40")[0]
        assert "not the admin token" in area.remove(token, "40")[0]
    assert list(area.upload_dir.iterdir()) == []          # refused uploads are deleted all the same
    assert not (tmp_path / "data").exists()


@pytest.mark.slow
def test_the_token_opens_the_list_of_documents(tmp_path, index):
    visible, message, rows, choices = area_on(tmp_path, index).unlock(TOKEN)
    assert visible["visible"] is True and "Token accepted" in message
    assert [r[0] for r in rows] == ["40", "41", "42"] and all(r[-1] == "内置 seed" for r in rows)
    assert rows[0][1] == "吉政发〔2016〕40号" and rows[0][5] == 43
    assert [k for _, k in choices["choices"]] == ["40", "41", "42"]


@pytest.mark.slow
def test_the_preview_shows_the_parse_and_changes_nothing(tmp_path, index):
    area = area_on(tmp_path, index)
    before = state(tmp_path, index)
    path = upload(area, "jiuye.docx", to_docx(paragraphs(JIUYE), tmp_path / "jiuye.docx").read_bytes())
    html, pending, button = area.preview(TOKEN, path, "zh")
    assert pending[0] == "jiuye.docx" and button["interactive"] is True
    for shown in ("国发〔2018〕39号", "国务院关于做好当前和今后一个时期促进就业工作的若干意见", "国务院", "2018-11-16",
                  "各省、自治区、直辖市人民政府", "23 条款", "前 12 条（共 23 条）",
                  "《国务院关于做好当前和今后一个时期促进就业工作的若干意见》（国发〔2018〕39号）第一部分",
                  "责任单位"):
        assert shown in html, shown
    assert "Issuer" in area.preview(TOKEN, upload(area, "j.txt", JIUYE.read_bytes()), "en")[0]
    assert state(tmp_path, index) == before and list(area.upload_dir.iterdir()) == []


def test_preview_escapes_the_document_text(tmp_path):
    from assistant.serve.render import summary_html
    s = {"key": "x'><b", "doc_number": "<script>alert(1)</script>", "title": "<img src=x onerror=alert(2)>",
         "cited_as": "《<i>t</i>》", "issuer": "<b>机关</b>", "issuer_inferred": False, "issuer_from": "",
         "issue_date": "", "addressees": ["<u>a</u>"], "attachments": [], "counts":
         {"clauses": 1, "responsibilities": 0, "targets": 0}, "warnings": ["<svg onload=alert(3)>"],
         "clauses": [{"citation": "<a href='javascript:x'>c</a>", "text": "<script>t</script>", "responsibilities": []}]}
    html = summary_html(s, "en")
    assert "<script>" not in html and "<img" not in html and "<svg" not in html and "<a " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "data-key='x&#x27;&gt;&lt;b'" in html


def scanned_pdf(path: Path) -> bytes:
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(str(path))
    c.rect(50, 50, 400, 600, fill=1)   # a picture of a page, no text
    c.showPage()
    c.save()
    return path.read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("name, make, message", [
    ("empty.txt", lambda tmp: b"", "empty.txt is empty (0 bytes)"),
    ("setup.txt", lambda tmp: b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 64, "setup.txt"),
    ("scan.pdf", lambda tmp: scanned_pdf(tmp / "scan.pdf"), "no text layer (a scanned image); run OCR first"),
    ("page.docx", lambda tmp: b"PK\x03\x04" + b"\x00" * 100, "page.docx"),
    ("notes.txt", lambda tmp: "今天开会。\n大家都来了。".encode(), "notes.txt"),
])
def test_a_bad_file_gets_a_message_and_changes_nothing(tmp_path, index, name, make, message):
    area = area_on(tmp_path, index)
    before = state(tmp_path, index)
    html, pending, button = area.preview(TOKEN, upload(area, name, make(tmp_path)), "zh")
    assert "cannot be added; nothing changed" in html and message in html and "admin-notice error" in html
    assert str(tmp_path) not in html and "/tmp" not in html   # no paths for the page
    assert pending is None and button["interactive"] is False
    assert state(tmp_path, index) == before and list(area.upload_dir.iterdir()) == []


def test_only_uploads_are_read_and_deleted(tmp_path):
    area = area_on(tmp_path, tmp_path / "no-index")
    elsewhere = tmp_path / "precious.txt"
    elsewhere.write_text("keep me", encoding="utf-8")
    html, pending, _ = area.preview(TOKEN, str(elsewhere), "zh")
    assert "not an uploaded file" in html and pending is None and elsewhere.exists()


@pytest.mark.slow
def test_a_seed_document_cannot_be_removed(tmp_path, index):
    area = area_on(tmp_path, index)
    before = state(tmp_path, index)
    message, pending, button = area.ask_remove(TOKEN, "40")
    assert "seed document, which cannot be removed" in message and pending is None and button["visible"] is False
    message = area.remove(TOKEN, "40")[0]   # straight to the second step: the library says no as well
    assert "was not removed" in message and "seed document" in message
    assert state(tmp_path, index) == before


@pytest.mark.slow
def test_add_answer_duplicate_and_remove_on_a_live_page(tmp_path, index):
    """The whole round on a real page object: the confirmed document is answered from at once, the same file
    again is refused, and after removal it is gone from answers and the list."""
    from assistant.answer.answerer import LiveAnswerer
    from ui import Page
    page = Page(LiveAnswerer(index, corpus_dir=DEFAULT_CORPUS_DIR, data_dir=tmp_path / "data", check_every=3600))
    area = area_on(tmp_path, index)
    area.page = page
    question = json.loads((DOCS / "expected.json").read_text(encoding="utf-8"))[JIUYE.name]["questions"][1]
    data = to_pdf(paragraphs(JIUYE), tmp_path / "jiuye.pdf").read_bytes()
    _, pending, _ = area.preview(TOKEN, upload(area, "jiuye.pdf", data), "zh")
    message, pending, button, preview, rows, choices = area.confirm(TOKEN, pending)
    assert "admin-notice ok" in message and "added 39" in message and "embedded" in message, message
    assert ", 0 reused" not in message   # the live build's vectors are reused, only the new ones embedded
    assert pending is None and preview == "" and rows[-1][0] == "39" and rows[-1][-1] == "已添加 added"
    a = page.answerer.ask(question["q"])   # check_every=3600: only reload() can have swapped it
    from assistant.serve.render import LABELS
    from ui import header_text
    assert "4 份政府文件" in header_text(LABELS["zh"], page) and "4 government documents" in header_text(LABELS["en"], page)
    assert a.found and question["expected_snippet"] in a.citations[0].text and a.citations[0].clause_id.startswith("39-")

    html, pending, _ = area.preview(TOKEN, upload(area, "again.pdf", data), "zh")
    assert "already in the library as document 39" in html and pending is None
    html, _, _ = area.preview(TOKEN, upload(area, "jiuye.txt", JIUYE.read_bytes()), "zh")
    assert "国发〔2018〕39号 is already present as document 39" in html

    message, pending, button = area.ask_remove(TOKEN, "39")
    assert pending == "39" and button["visible"] is True
    message, pending, button, rows, _ = area.remove(TOKEN, pending)
    assert "removed 39" in message and [r[0] for r in rows] == ["40", "41", "42"]
    a = page.answerer.ask(question["q"])
    assert not any(c.clause_id.startswith("39-") for c in a.citations)


def test_one_change_at_a_time(tmp_path):
    area = area_on(tmp_path, tmp_path / "no-index")
    area._change.acquire()
    try:
        assert "Another change is running" in area.confirm(TOKEN, ("a.txt", b"x"))[0]
        assert "Another change is running" in area.remove(TOKEN, "39")[0]
    finally:
        area._change.release()
