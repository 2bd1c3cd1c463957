"""The contract tests need Atlassian's OpenAPI documents: skip them all, saying why, when they are absent."""

import pytest

from tests.contract.spec_index import SPEC_FILES, specs_dir
from tests.shared_paths import missing


def pytest_collection_modifyitems(config, items):
    absent = [name for name in SPEC_FILES.values() if not (specs_dir() / name).is_file()]
    if not absent:
        return
    reason = missing(specs_dir() / absent[0], "ATLASSIAN_API_SPECS")
    for item in items:
        if "tests/contract/" in str(item.path):
            item.add_marker(pytest.mark.skip(reason=reason))
