"""Tables for drafting: who does what (agency → provisions) and targets & deadlines, from the records."""
from __future__ import annotations

import csv
import io
import re

from ..ingest.catalog import Catalog
from ..ingest.glossary import load_glossary
from .phrasing import units_zh
from ..ingest.records import owners_at

ROLES = (("lead", "牵头"), ("participants", "参与"), ("responsible", "负责"))


def _task(clause, r, several: bool) -> str:
    """What a row is about: the clause's heading, or, when the clause has several statements, the start of
    the text this one covers (40号 二(四)2 has one statement per paragraph, with different leads)."""
    heading = clause.trail[-1] if clause.trail else ""
    if not several:
        return heading
    s, e = r.covers[0] - clause.start, r.covers[1] - clause.start
    covered = clause.text[s:e].strip()
    if covered.startswith(heading):
        covered = covered[len(heading):].lstrip("。.;；,，: \n")
    first = re.split(r"(?<=[。；;])", covered, maxsplit=1)[0]
    return first[:60] + ("…" if len(first) > 60 else "")


def agency_rows(catalog: Catalog, name: str | None = None) -> list[dict]:
    """One row per (agency, role, statement), in document order; `name` filters (aliases accepted).

    A clause with several statements (one per paragraph) gives one row per statement that names the agency:
    it can lead one paragraph and take part in another. Within one statement an agency has one role."""
    g = load_glossary()
    want = g.canonical(name.strip()) if name else None
    rows = []
    for c in catalog.clauses:
        rs = catalog.records_of(c.clause_id).responsibilities
        for r in rs:
            for role, u in r.roles():
                agency = g.canonical(u.name)
                if want and want not in agency:
                    continue
                rows.append({"agency": agency, "agency_en": g.agency_english(agency), "role": role,
                             "role_zh": dict(ROLES)[role], "et_al": u.et_al, "clause_id": c.clause_id,
                             "doc_number": c.doc_number, "citation": c.citation, "heading": _task(c, r, len(rs) > 1),
                             "statement": r.raw})
    return rows


def target_rows(catalog: Catalog) -> list[dict]:
    """One row per target or dated task, with the owners of the statement that covers its sentence."""
    rows = []
    for c in catalog.clauses:
        rec = catalog.records_of(c.clause_id)
        for t in rec.targets:
            owners = owners_at(rec, t.start)
            rows.append({"kind": t.kind, "indicator": t.indicator, "value": t.value, "qualifier": t.qualifier,
                         "year": t.year, "date": t.date,
                         **{role: units_zh(getattr(owners, role)) if owners else "" for role, _ in ROLES},
                         "clause_id": c.clause_id, "citation": c.citation, "sentence": t.sentence})
    return rows


def to_csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()
