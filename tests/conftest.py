import pytest

from assistant.catalog import Catalog


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The real corpus, parsed once: it is small."""
    return Catalog.load()
