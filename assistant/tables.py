"""Tables for drafting: who does what (agency → provisions) and targets & deadlines, from the records."""
from __future__ import annotations

import csv
import io

from .catalog import Catalog
from .glossary import load_glossary

ROLES = (("lead", "牵头"), ("participants", "参与"), ("responsible", "负责"))


def agency_rows(catalog: Catalog, name: str | None = None) -> list[dict]:
    """One row per (agency, role, clause), in document order; `name` filters (aliases accepted)."""
    g = load_glossary()
    want = g.canonical(name.strip()) if name else None
    rows = []
    for c in catalog.clauses:
        for r in catalog.records_of(c.clause_id).responsibilities:
            for role, label in ROLES:
                for u in getattr(r, role):
                    agency = g.canonical(u.name)
                    if want and want not in agency:
                        continue
                    rows.append({"agency": agency, "agency_en": g.agency_english(agency), "role": role,
                                 "role_zh": label, "clause_id": c.clause_id, "doc_number": c.doc_number,
                                 "citation": c.citation, "heading": c.trail[-1] if c.trail else "",
                                 "statement": r.raw})
    return rows


def target_rows(catalog: Catalog) -> list[dict]:
    from .records import owners_at
    rows = []
    for c in catalog.clauses:
        rec = catalog.records_of(c.clause_id)
        for t in rec.targets:
            owners = owners_at(rec, t.start)
            rows.append({"kind": t.kind, "indicator": t.indicator, "value": t.value, "qualifier": t.qualifier,
                         "year": t.year, "date": t.date,
                         "lead": "、".join(u.name for u in owners.lead) if owners else "",
                         "participants": "、".join(u.name for u in owners.participants) if owners else "",
                         "responsible": "、".join(u.name for u in owners.responsible) if owners else "",
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
