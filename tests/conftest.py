import subprocess
import sys
from pathlib import Path

import pytest

from assistant.ingest.catalog import Catalog


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The real corpus, parsed once: it is small."""
    return Catalog.load()


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory):
    """A real index (real models), built once per test session by the CLI."""
    out = tmp_path_factory.mktemp("index")
    subprocess.run([sys.executable, "-m", "assistant", "build", "--index", str(out)], check=True, cwd=ROOT,
                   capture_output=True)
    return out
