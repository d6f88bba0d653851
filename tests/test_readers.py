"""File readers: every format gives the same body paragraphs, verbatim; every bad file a clear BadDocument.

The documents are built here, in the official style, and rendered to each format
(tests/fixtures/make_formats.py for .docx/.pdf), so each test states exactly what must come back.
"""
import io
import struct
import sys
import time
import zipfile
from pathlib import Path

import pytest

from assistant.errors import BadDocument
from assistant.ingest.readers import MAX_BYTES, READERS, Reading, read_bytes, read_pasted, read_path

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from make_formats import to_docx, to_pdf  # noqa: E402

DOC = [
    "吉林省人民政府办公厅关于印发",
    "吉林省清洁土壤行动计划的通知",
    "吉政办发〔2019〕35号",
    "各市（州）人民政府，长白山管委会，各县（市）人民政府，省政府各厅委办、各直属机构：",
    "经省政府同意，现将《吉林省清洁土壤行动计划》印发给你们，请认真贯彻执行。",
    "吉林省人民政府办公厅",
    "2019年3月15日",
    "吉林省清洁土壤行动计划",
    "为切实加强土壤污染防治，逐步改善土壤环境质量，根据《土壤污染防治行动计划》（国发〔2016〕31号），结合我省实际，制定本计划。",
    "一、总体要求",
    "（一）指导思想。全面贯彻党的十九大精神，坚持预防为主、保护优先、风险管控，突出重点区域、行业和污染物，有效管控土壤环境风险。",
    "（二）工作目标。到2020年，全省土壤污染加重趋势得到初步遏制，受污染耕地安全利用率达到90%左右，污染地块安全利用率达到90%以上。",
    "二、主要任务",
    "1.开展土壤污染状况详查。2019年年底前查明农用地土壤污染的面积、分布及其对农产品质量的影响。（省生态环境厅牵头，省财政厅、省自然资源厅、省农业农村厅参与）",
    "2.建立土壤环境质量监测网络。",
]


# --- plain text -----------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding, note", [
    ("utf-8", "decoded as UTF-8"),
    ("utf-8-sig", "decoded as UTF-8 (with BOM)"),
    ("utf-16", "decoded as UTF-16 (with BOM)"),
    ("gb18030", "decoded as GB18030"),
])
def test_text_encodings(encoding, note):
    data = "\r\n".join(DOC).encode(encoding)
    r = read_bytes(data, "folder/吉政办发〔2019〕35号.txt")
    assert r == Reading(tuple(DOC), "text", "吉政办发〔2019〕35号.txt", {}, (note,))


def test_gbk_text_is_not_taken_for_utf8():
    r = read_bytes("\n".join(DOC).encode("gbk"), "doc.txt")
    assert r.paragraphs == tuple(DOC) and r.notes == ("decoded as GB18030",)


def test_text_line_ends_and_indentation():
    text = "\u3000\u3000" + "\r".join(DOC[:4]) + "\n\n\n  \u3000 " + "\r\n".join(DOC[4:]) + "\r\n"
    assert read_bytes(text.encode(), "doc.txt").paragraphs == tuple(DOC)


def test_one_long_line_is_split_on_runs_of_spaces():
    line = "  ".join(DOC[:8]) + "\u3000\u3000" + "\u3000\u3000".join(DOC[8:])
    assert read_bytes(line.encode(), "doc.txt").paragraphs == tuple(DOC)
    assert read_pasted(line).paragraphs == tuple(DOC)


def test_cleanup_keeps_visible_characters():
    # NFKC would turn （一） into (一) and １２ into 12; a CJK compatibility ideograph must keep its code point
    text = "（一）第１２条：\u00a0\u200b“十四五”\u3000规划 e\u0301 \uf900"
    assert read_pasted(text).paragraphs == ("（一）第１２条： “十四五”\u3000规划 \u00e9 \uf900",)


def test_pasted():
    r = read_pasted("\n".join(DOC))
    assert (r.paragraphs, r.kind, r.source) == (tuple(DOC), "pasted", "pasted.txt")


# --- HTML -----------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>吉林省人民政府办公厅关于印发吉林省清洁土壤行动计划的通知_吉林省人民政府</title>
<style>.nav{color:red}</style><script>var a = "<p>不是正文</p>";</script></head>
<body>
<div class="top-nav"><ul><li><a href="/">首页</a></li><li><a href="/zw">政务公开</a></li></ul></div>
<ul class="list"><li><a href="/">网站首页</a></li><li><a href="/fw">政务服务</a></li></ul>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zw">政务公开</a> &gt; 政策文件</div>
<div class="article">
<table class="xxgk">
<tr><td>索&nbsp;引&nbsp;号：</td><td>11220000013544357T/2019-00035</td><td>主题分类：</td><td>生态环境</td></tr>
<tr><td>发文机关：</td><td>吉林省人民政府办公厅</td><td>成文日期：</td><td>2019年03月15日</td></tr>
<tr><td>标　　题：</td><td>吉林省人民政府办公厅关于印发吉林省清洁土壤行动计划的通知</td></tr>
<tr><td>发文字号：</td><td>吉政办发〔2019〕35号</td><td>发布日期：</td><td>2019年03月20日</td></tr>
</table>
<h1>吉林省人民政府办公厅关于印发<br>吉林省清洁土壤行动计划的通知</h1>
<div class="info">发布时间：2019-03-20 09:30&nbsp;&nbsp;来源：省政府办公厅&nbsp;&nbsp;【字号：<a>大</a> <a>中</a> <a>小</a>】
 <a href="javascript:window.print()">【打印】</a></div>
<div id="zoom" class="content">
<p style="text-align:center">吉政办发〔2019〕35号</p>
<p>各市（州）人民政府，长白山管委会，各县（市）人民政府，省政府各厅委办、各直属机构：</p>
<p>&emsp;&emsp;经省政府同意，现将《吉林省清洁土壤行动计划》印发给你们，请认真贯彻执行。
<p align="right">吉林省人民政府办公厅</p>
<p align="right">2019年3月15日</p>
<p align="center"><strong>吉林省清洁土壤行动计划</strong></p>
<p>&#12288;&#12288;为切实加强土壤污染防治，逐步改善土壤环境质量，根据《土壤污染防治行动计划》
（国发〔2016〕31号），结合我省实际，制定本计划。</p>
<p>&nbsp;&nbsp;一、总体要求</p>
<p>&ensp;&ensp;（一）指导思想。坚持预防为主、保护优先、风险管控。</p>
<p>1.开展土壤污染状况详查。受污染耕地安全利用率达到90%左右&amp;污染地块安全利用率达到90%以上。（省生态环境厅牵头，省财政厅、省自然资源厅参与）</p>
<p>附件：<a href="/files/fj1.docx">吉林省清洁土壤行动计划重点任务分工.docx</a></p>
</div>
<div class="bdsharebuttonbox">分享到：<a class="bds_weixin">微信</a><a class="bds_tsina">新浪微博</a></div>
<p>【打印本页】【关闭窗口】</p>
<p>扫一扫在手机打开当前页</p>
<p>上一篇：<a href="/a">关于做好春季农业生产工作的通知</a></p>
</div>
<div class="related"><h3>相关文件</h3><ul><li><a href="/b">吉林省人民政府关于印发吉林省土壤污染防治工作方案的通知</a>
<span>2017-01-05</span></li></ul></div>
<form action="/search"><input name="q"><button>搜索</button></form>
<div class="footer">主办：吉林省人民政府办公厅 &nbsp; 吉ICP备05002191号</div>
</body></html>"""
PAGE_BODY = (
    "吉林省人民政府办公厅关于印发",
    "吉林省清洁土壤行动计划的通知",
    "吉政办发〔2019〕35号",
    "各市（州）人民政府，长白山管委会，各县（市）人民政府，省政府各厅委办、各直属机构：",
    "经省政府同意，现将《吉林省清洁土壤行动计划》印发给你们，请认真贯彻执行。",
    "吉林省人民政府办公厅",
    "2019年3月15日",
    "吉林省清洁土壤行动计划",
    "为切实加强土壤污染防治，逐步改善土壤环境质量，根据《土壤污染防治行动计划》（国发〔2016〕31号），结合我省实际，制定本计划。",
    "一、总体要求",
    "（一）指导思想。坚持预防为主、保护优先、风险管控。",
    "1.开展土壤污染状况详查。受污染耕地安全利用率达到90%左右&污染地块安全利用率达到90%以上。（省生态环境厅牵头，省财政厅、省自然资源厅参与）",
    "附件：吉林省清洁土壤行动计划重点任务分工.docx",
)
PAGE_META = {
    "索引号": "11220000013544357T/2019-00035", "主题分类": "生态环境", "发文机关": "吉林省人民政府办公厅",
    "成文日期": "2019年03月15日", "标题": "吉林省人民政府办公厅关于印发吉林省清洁土壤行动计划的通知",
    "发文字号": "吉政办发〔2019〕35号", "发布日期": "2019年03月20日", "发布时间": "2019-03-20 09:30",
    "来源": "省政府办公厅",
}


def test_html_gbk_page_body_meta_and_no_chrome():
    r = read_bytes(PAGE.encode("gbk"), "page.htm")
    assert r.paragraphs == PAGE_BODY
    assert r.meta == PAGE_META
    assert r.kind == "html" and r.notes[0] == "decoded as GB18030 (declared gb2312)"
    assert any("page chrome removed" in n for n in r.notes)


def test_html_charset_from_meta_charset_and_utf8_resaved_page():
    page = PAGE.replace('http-equiv="Content-Type" content="text/html; charset=gb2312"', 'charset="GBK"')
    assert read_bytes(page.encode("gb18030"), "page.html").paragraphs == PAGE_BODY
    r = read_bytes(PAGE.encode("utf-8"), "page.html")  # saved again as UTF-8, the old <meta> kept
    assert r.paragraphs == PAGE_BODY
    assert r.notes[0] == "decoded as UTF-8: the page declares gb2312 but its bytes are UTF-8"


def test_html_fragment_without_html_tag():
    r = read_bytes("<p>一、总体要求</p><p>（一）指导思想。</p><div>【打印】【关闭】</div>".encode(), "x.html")
    assert r.paragraphs == ("一、总体要求", "（一）指导思想。")


def test_html_only_chrome_is_refused():
    page = '<html><body><div class="nav"><a href="/">首页</a></div><p>【打印】【关闭】</p></body></html>'
    with pytest.raises(BadDocument, match="no body text once page chrome is removed"):
        read_bytes(page.encode(), "empty.html")


# --- docx -----------------------------------------------------------------------------------------

def test_docx_plain_paragraphs_and_core_properties(tmp_path):
    path = to_docx(DOC, tmp_path / "doc.docx", title="吉林省清洁土壤行动计划")
    r = read_path(path)
    assert (r.paragraphs, r.kind, r.source) == (tuple(DOC), "docx", "doc.docx")
    assert r.meta["title"] == "吉林省清洁土壤行动计划" and "created" in r.meta


NUMBERING = """<w:abstractNum xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" w:abstractNumId="90">
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/><w:suff w:val="nothing"/></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/></w:lvl>
  <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%3."/></w:lvl>
  <w:lvl w:ilvl="3"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="%4)"/><w:suff w:val="space"/></w:lvl>
</w:abstractNum>"""


def test_docx_numbering_tables_breaks_and_no_header(tmp_path):
    import docx
    from docx.oxml import parse_xml

    d = docx.Document()
    numbering = d.part.numbering_part.element
    numbering.insert(0, parse_xml(NUMBERING))
    num = parse_xml('<w:num xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" w:numId="90">'
                    '<w:abstractNumId w:val="90"/></w:num>')
    numbering.append(num)

    def numbered(text, level):
        p = d.add_paragraph(text)
        num_pr = p._p.get_or_add_pPr().get_or_add_numPr()
        num_pr.get_or_add_ilvl().val = level
        num_pr.get_or_add_numId().val = 90
        return p

    d.sections[0].header.paragraphs[0].text = "吉林省人民政府办公厅文件"
    d.sections[0].footer.paragraphs[0].text = "- 1 -"
    d.add_paragraph("吉林省清洁土壤行动计划")
    numbered("总体要求", 0)
    numbered("指导思想。坚持预防为主、保护优先。", 1)
    numbered("工作目标。到2020年，受污染耕地安全利用率达到90%左右。", 1)
    numbered("主要任务", 0)
    numbered("开展详查。（省生态环境厅牵头，省财政厅参与）", 1)
    numbered("查明农用地土壤污染的面积。", 2)
    numbered("建立监测网络。", 2)
    numbered("布设国控点位", 3)
    p = d.add_paragraph("吉林省人民政府办公厅")
    p.add_run().add_break()
    p.add_run("2019年3月15日")
    table = d.add_table(rows=2, cols=3)
    for row, cells in zip(table.rows, [("序号", "任务", "牵头单位"), ("1", "土壤污染状况详查", "省生态环境厅")]):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    tab = d.add_paragraph("附件：")
    tab.runs[0].add_tab()
    tab.add_run("重点任务分工表")
    path = tmp_path / "numbered.docx"
    d.save(path)

    r = read_path(path)
    assert r.paragraphs == (
        "吉林省清洁土壤行动计划",
        "一、总体要求",
        "（一）指导思想。坚持预防为主、保护优先。",
        "（二）工作目标。到2020年，受污染耕地安全利用率达到90%左右。",
        "二、主要任务",
        "（一）开展详查。（省生态环境厅牵头，省财政厅参与）",
        "1.查明农用地土壤污染的面积。",
        "2.建立监测网络。",
        "a) 布设国控点位",
        "吉林省人民政府办公厅",
        "2019年3月15日",
        "序号\t任务\t牵头单位",
        "1\t土壤污染状况详查\t省生态环境厅",
        "附件：\t重点任务分工表",
    )
    assert "8 numbered paragraph(s): markers rendered from word/numbering.xml" in r.notes


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _no_decompression(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("a member was opened: the guard must refuse before decompressing")
    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)


def test_docx_zip_bomb_ratio_refused_without_decompressing(monkeypatch):
    bomb = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"\0" * (8 * 1024 * 1024)})
    assert len(bomb) < 64 * 1024
    _no_decompression(monkeypatch)
    t = time.perf_counter()
    with pytest.raises(BadDocument, match=r"bomb.docx has a member word/document.xml that would expand \d+× "
                                          r"\(at most 100×\): a zip bomb"):
        read_bytes(bomb, "bomb.docx")
    assert time.perf_counter() - t < 0.5


def test_docx_declared_huge_size_refused_without_decompressing(monkeypatch):
    data = bytearray(_zip({"word/document.xml": b"<w:document/>"}))
    cd = data.rfind(b"PK\x01\x02")  # the central directory entry: uncompressed size at offset 24
    data[cd + 24:cd + 28] = struct.pack("<I", 3 * 2**30)
    _no_decompression(monkeypatch)
    with pytest.raises(BadDocument, match=r"would decompress to 3072 MB \(at most 50 MB for a document\)"):
        read_bytes(bytes(data), "huge.docx")


def test_docx_member_larger_than_declared_is_refused():
    data = bytearray(_zip({"word/document.xml": b"<w:document>" + b"x" * 5000 + b"</w:document>"}))
    for sig, off in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):  # declare 100 bytes in both headers
        at = data.find(sig)
        data[at + off:at + off + 4] = struct.pack("<I", 100)
    with pytest.raises(BadDocument, match="is damaged|malformed XML"):
        read_bytes(bytes(data), "liar.docx")


# --- PDF ------------------------------------------------------------------------------------------

def test_pdf_cid_font_text_comes_back_verbatim(tmp_path):
    """reportlab's built-in STSong-Light (a CID font, no file) is extracted by pypdf as the same Unicode."""
    import pypdf

    line = "（一）加强组织领导（省发展改革委牵头，省财政厅参与）吉政办发〔2019〕35号“十四五”《规划》：；！？2019年3月15日"
    path = to_pdf([line], tmp_path / "one.pdf", indent=False)
    text = pypdf.PdfReader(path).pages[0].extract_text()
    *lines, page_number = text.splitlines()
    assert "".join(lines) == line and page_number == "- 1 -"


def test_pdf_paragraphs_rejoined_page_chrome_removed(tmp_path):
    path = to_pdf(DOC * 3, tmp_path / "doc.pdf", header="吉林省人民政府办公厅文件")
    r = read_path(path)
    assert r.paragraphs == tuple(DOC * 3)
    pages = int(r.notes[0].split()[0])
    assert pages >= 2 and r.notes[1] == f"{2 * pages} page header(s)/footer(s)/number(s) removed"


def test_pdf_scanned_is_refused(tmp_path):
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(tmp_path / "scan.pdf"))
    for _ in range(2):
        c.rect(50, 50, 400, 600, fill=1)  # a picture of a page, no text
        c.showPage()
    c.save()
    with pytest.raises(BadDocument, match=r"scan.pdf has 2 page\(s\) but only 0 character\(s\) of text: it has no text "
                                          r"layer \(a scanned image\); run OCR first or add the text/Word version"):
        read_path(tmp_path / "scan.pdf")


def test_pdf_with_password_is_refused(tmp_path):
    import pypdf

    w = pypdf.PdfWriter(clone_from=to_pdf(DOC, tmp_path / "open.pdf"))
    w.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    w.write(tmp_path / "locked.pdf")
    with pytest.raises(BadDocument, match="locked.pdf is protected by a password; save a copy without the password"):
        read_path(tmp_path / "locked.pdf")


def test_pdf_owner_password_only_is_read(tmp_path):
    import pypdf

    w = pypdf.PdfWriter(clone_from=to_pdf(DOC, tmp_path / "open.pdf"))
    w.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    w.write(tmp_path / "print-protected.pdf")
    assert read_path(tmp_path / "print-protected.pdf").paragraphs == tuple(DOC)


# --- what the file is: suffix and content ---------------------------------------------------------

def test_registry_names():
    assert set(READERS) == {".txt", ".html", ".htm", ".docx", ".pdf"}


def test_suffix_that_lies_is_read_by_content(tmp_path):
    r = read_bytes(PAGE.encode("gbk"), "notice.pdf")
    assert r.kind == "html" and r.paragraphs == PAGE_BODY
    assert r.notes[0] == "named .pdf but the content is html: read as html"
    pdf = to_pdf(DOC, tmp_path / "doc.pdf").read_bytes()
    assert read_bytes(pdf, "doc.docx").kind == "pdf"
    r = read_bytes(pdf, "download")
    assert (r.kind, r.paragraphs) == ("pdf", tuple(DOC))
    docx = to_docx(DOC, tmp_path / "doc.docx").read_bytes()
    assert read_bytes(docx, "doc.zip").paragraphs == tuple(DOC)
    assert read_bytes("\n".join(DOC).encode("gb18030"), "doc.dat").paragraphs == tuple(DOC)


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504


@pytest.mark.parametrize("data, name, message", [
    (b"", "empty.docx", r"empty.docx is empty \(0 bytes\); upload the file again"),
    (OLE, "notice.doc", "notice.doc is a .doc or a password-protected Word file .*save it as .docx"),
    (OLE, "notice.docx", "notice.docx is a .doc or a password-protected Word file .*save it as .docx"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "scan.pdf", "scan.pdf is a PNG image, not a document .*run OCR first"),
    (bytes(range(256)) * 4, "blob.xyz", r"blob.xyz: the type of this file is not recognised \(suffix '.xyz'.*upload "
     r"plain text \(.txt\), a saved web page \(.html/.htm\), Word \(.docx\) or a PDF"),
    (bytes(range(256)) * 4, "blob", r"suffix 'none'"),
    (b"\x01\x02\x03\x04\x05\x06\x07\x08" * 50 + "一、总体要求".encode(), "x.txt", r"control or undecodable characters"),
    ("一、总体要求".encode("utf-16-le"), "x.txt", "NUL bytes: it is a binary file .*save the text as UTF-8"),
    (b"%PDF-1.7\n1 0 obj garbage", "bad.pdf", "bad.pdf is not a readable PDF .*save or print it to a new PDF"),
    (_zip({"xl/workbook.xml": b"<workbook/>"}), "sheet.docx", "sheet.docx is an Excel workbook without word/document.xml"),
    (_zip({"a.txt": b"hello"}), "a.docx", "a.docx is a zip archive without word/document.xml, not a Word document"),
    (b"PK\x03\x04 truncated", "cut.docx", r"cut.docx is not a readable .docx \(not a zip archive"),
    ("   \r\n\u3000".encode(), "blank.txt", "blank.txt holds only white space"),
])
def test_bad_input_is_refused_with_a_clear_message(data, name, message):
    with pytest.raises(BadDocument, match=message) as e:
        read_bytes(data, name)
    assert e.value.exit_code == 6


def test_too_large():
    with pytest.raises(BadDocument, match=r"big.txt is 20.0 MB, more than the 20 MB a document may have"):
        read_bytes(b"a" * (MAX_BYTES + 1), "big.txt")


def test_read_path_checks_size_before_reading(tmp_path, monkeypatch):
    big = tmp_path / "big.pdf"
    with open(big, "wb") as f:
        f.truncate(MAX_BYTES * 3)  # sparse: nothing is written
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read a file over the limit"))
    with pytest.raises(BadDocument, match=r"big.pdf is 60.0 MB, more than the 20 MB"):
        read_path(big)


def test_read_path_missing_and_folder(tmp_path):
    with pytest.raises(BadDocument, match=r"nope.txt: cannot be opened \(No such file or directory\)"):
        read_path(tmp_path / "nope.txt")
    with pytest.raises(BadDocument, match="is not a file"):
        read_path(tmp_path)


def test_pasted_empty_is_refused():
    with pytest.raises(BadDocument, match="the pasted text is empty"):
        read_pasted(" \n\u3000\u3000\n")


def test_browser_path_name_is_reduced_to_file_name():
    assert read_bytes("一、总体要求".encode(), "C:\\fakepath\\通知.txt").source == "通知.txt"


# --- the repository's own documents ---------------------------------------------------------------

def test_gazette_page_reads_as_corpus_splits_it():
    """The real gazette page: the text reader's paragraphs are the ones assistant/corpus.py works from."""
    from assistant.ingest.corpus import corpus_files, split_paragraphs

    for f in corpus_files():
        expected = tuple(p.strip() for p in split_paragraphs(f.read_text(encoding="utf-8")) if p.strip())
        assert read_path(f).paragraphs == expected


@pytest.mark.parametrize("render", [to_docx, to_pdf])
def test_fixture_document_round_trips_through_docx_and_pdf(render, tmp_path):
    src = Path(__file__).parent / "fixtures" / "other_layout.txt"
    paragraphs = [x.strip() for x in src.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert read_path(render(paragraphs, tmp_path / f"doc.{render.__name__[3:]}")).paragraphs == tuple(paragraphs)
