"""Offline policy Q&A over Jilin provincial government documents: corpus → clauses → index → answers."""

__version__ = "0.1.0"
