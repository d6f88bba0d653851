"""Domain errors. The library raises these; the CLI maps them to exit codes, the JSON API to HTTP statuses
(`http_status`, beside `exit_code`), the page to messages.

Every message states the value, the rule and the fix.
"""
import re


class AssistantError(Exception):
    """Base class for every error this package raises on purpose."""

    exit_code = 1
    http_status = 500


class CorpusError(AssistantError):
    """The source page cannot be turned into documents (format not recognised)."""


class CorpusContaminated(CorpusError):
    """A spam word survived cleaning; the corpus is refused."""

    def __init__(self, word: str, where: str, excerpt: str):
        self.word, self.where, self.excerpt = word, where, excerpt
        super().__init__(
            f"spam {word!r} survived cleaning in {where}: …{excerpt}… — the corpus is refused. "
            "Find where the page was tampered with and teach assistant/corpus.py to clean it "
            "(never edit the vendored page by hand)."
        )


class UnknownClause(AssistantError):
    """A clause id or citation form that matches nothing."""

    http_status = 404


class IndexError_(AssistantError):
    """The index is missing, stale, foreign or damaged. `python -m assistant build` repairs it."""

    exit_code = 3
    http_status = 503   # the server stays up on the index it has, or has none to serve


class BuildInProgress(IndexError_):
    """Another build is writing the same index folder; this one is refused instead of racing it."""

    http_status = 409


class DataError(AssistantError):
    """A data file (the glossary or renderings that ship with the package, a question file) is missing or malformed."""

    exit_code = 5


class ModelError(AssistantError):
    """An encoder cannot be provisioned or loaded offline."""

    exit_code = 4


class BadDocument(AssistantError):
    """A file that cannot be read as a document (empty, binary, scanned, encrypted, a duplicate, too large)."""

    exit_code = 6
    http_status = 400


class BadQuestion(AssistantError):
    """A question that cannot be asked (empty, too long)."""

    exit_code = 2
    http_status = 400


def public_message(message: str) -> str:
    """An error for visitors: the reason without file-system paths (they are for the administrator's log)."""
    return re.sub(r"(?<![\w.])(?:/|\.\./|\./)[^\s;:,()'\"]+", "…", message)
