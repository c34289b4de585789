"""examples/from_fastapi: a FastAPI program whose imports were changed to ambi's.

Its own tests (`examples/from_fastapi/test_main.py`) run twice: against the ambi program,
and against the same program with its import lines turned back into FastAPI's (which
shows the tests describe what FastAPI does). Nothing but import lines names ambi, and
the two OpenAPI documents agree, apart from the 400/415 answers ambi also documents.
"""

from __future__ import annotations

import copy
import importlib
import re
import shutil
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ._load import EXAMPLES

SOURCE = EXAMPLES / "from_fastapi"
TESTS = re.findall(r"^def (test_\w+)\(", (SOURCE / "test_main.py").read_text(), re.MULTILINE)

#: Starlette's TestClient (the FastAPI run only) warns that it would like httpx2.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:starlette.testclient")

#: ambi's import lines -> FastAPI's (the only lines the port changed).
_BACK_TO_FASTAPI = [
    (re.compile(r"^from ambi import App as FastAPI$"), "from fastapi import FastAPI"),
    (re.compile(r"^from ambi\.testing import"), "from fastapi.testclient import"),
    (re.compile(r"^from ambi(\.\w+)? import"), r"from fastapi\1 import"),
]


def _to_fastapi(line: str) -> str:
    for pattern, replacement in _BACK_TO_FASTAPI:
        if pattern.search(line):
            return pattern.sub(replacement, line)
    return line


def _load(package: str, root: Path, rewrite: Callable[[str], str]) -> ModuleType:
    """Copy the example to `root/package`, each line through `rewrite`, and import its
    tests (which import the app)."""
    target = root / package
    shutil.copytree(SOURCE, target, ignore=shutil.ignore_patterns("__pycache__"))
    for path in target.rglob("*.py"):
        lines = path.read_text().splitlines()
        path.write_text("\n".join(rewrite(line) for line in lines) + "\n")
    sys.path.insert(0, str(root))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # starlette.testclient's, as above
            return importlib.import_module(f"{package}.test_main")
    finally:
        sys.path.remove(str(root))


class Program:
    """One loaded copy of the example: its tests module and its fake databases."""

    def __init__(self, tests: ModuleType) -> None:
        self.tests = tests
        package = tests.__name__.rsplit(".", 1)[0]
        self.items = sys.modules[f"{package}.routers.items"].fake_items_db
        self.users = sys.modules[f"{package}.routers.users"].fake_users_db
        self.pristine = copy.deepcopy((self.items, self.users))

    def reset(self) -> None:
        items, users = copy.deepcopy(self.pristine)
        self.items.clear()
        self.items.update(items)
        self.users.clear()
        self.users.update(users)
        self.tests.client.cookies.clear()


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Program]]:
    root = tmp_path_factory.mktemp("from_fastapi")
    loaded = {
        "ambi": Program(_load("from_fastapi_ambi", root, lambda line: line)),
        "fastapi": Program(_load("from_fastapi_fastapi", root, _to_fastapi)),
    }
    yield loaded
    for program in loaded.values():
        program.tests.client.close()
    for name in list(sys.modules):
        if name.startswith(("from_fastapi_ambi", "from_fastapi_fastapi")):
            del sys.modules[name]


@pytest.mark.parametrize("framework", ["ambi", "fastapi"])
@pytest.mark.parametrize("name", TESTS)
def test_the_programs_own_tests(programs: dict[str, Program], framework: str, name: str) -> None:
    program = programs[framework]
    program.reset()
    getattr(program.tests, name)()


def test_only_import_lines_name_ambi(programs: dict[str, Program]) -> None:
    for path in SOURCE.rglob("*.py"):
        if path.name == "__init__.py":
            continue  # package docstrings: they tell the story of the port
        for line in path.read_text().splitlines():
            if re.search(r"\bambi\b", line):
                assert line.startswith("from ambi"), f"{path.name}: {line}"
    assert type(programs["fastapi"].tests.app).__module__ == "fastapi.applications"
    assert type(programs["ambi"].tests.app).__module__ == "ambi.app"


def _without_ambi_extras(document: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(document)
    for item in document["paths"].values():
        for operation in item.values():
            operation["responses"].pop("400", None)
            operation["responses"].pop("415", None)
    document["components"]["schemas"].pop("HTTPError", None)
    return document


def test_the_openapi_documents_agree(programs: dict[str, Program]) -> None:
    ambi_document = programs["ambi"].tests.app.openapi()
    fastapi_document = programs["fastapi"].tests.app.openapi()
    assert _without_ambi_extras(ambi_document) == fastapi_document


def test_the_document_is_valid_openapi(programs: dict[str, Program]) -> None:
    from openapi_spec_validator import validate

    validate(programs["ambi"].tests.app.openapi())
