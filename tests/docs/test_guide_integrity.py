"""The guide's promises about itself: every example module is shown on a page and run by a
test here, and every ambi import the migration tables name exists."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
TESTS = Path(__file__).parent


def example_modules() -> list[str]:
    """`docs/examples/tutorial/bodies.py` -> `docs.examples.tutorial.bodies`."""
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in EXAMPLES.rglob("*.py")
        if path.name != "__init__.py"
    )


def imported_by_tests() -> set[str]:
    """The example modules the tests of this folder import."""
    found: set[str] = set()
    for path in TESTS.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
                found.add(node.module)
    return found


def pages_text() -> str:
    return "\n".join(
        path.read_text() for path in DOCS.rglob("*.md") if EXAMPLES not in path.parents
    )


def test_there_are_examples() -> None:
    assert len(example_modules()) >= 20


@pytest.mark.parametrize("module", example_modules())
def test_every_example_is_run_by_a_test(module: str) -> None:
    assert module in imported_by_tests(), f"no test in tests/docs imports {module}"


@pytest.mark.parametrize("module", example_modules())
def test_every_example_is_shown_on_a_page(module: str) -> None:
    snippet = "/".join(module.split(".")[2:]) + ".py"
    assert f'--8<-- "{snippet}"' in pages_text(), f"no page includes {snippet}"


def ambi_column_code(page: str) -> list[str]:
    """The code spans of the right-hand (ambi) column of a page's tables."""
    spans: list[str] = []
    for line in (DOCS / page).read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 2 and not set(cells[0]) <= set("-: "):
            spans += re.findall(r"`([^`]+)`", cells[1])
    return spans


@pytest.mark.parametrize(
    "page", ["migration/fastapi.md", "migration/catzilla.md", "migration/cello.md"]
)
def test_the_migration_tables_name_real_imports(page: str) -> None:
    imports = [code for code in ambi_column_code(page) if code.startswith("from ambi")]
    assert len(imports) >= 2
    for statement in imports:
        namespace: dict[str, object] = {}
        exec(statement, namespace)  # `from ambi... import a, b as c`
        names = statement.split(" import ", 1)[1].replace(" as ", " ").split(", ")
        for name in names:
            assert namespace.get(name.split()[-1]) is not None, f"{page}: {statement}"


def test_the_reference_pages_name_importable_modules() -> None:
    for page in (DOCS / "api").glob("*.md"):
        for module in re.findall(r"^::: ([\w.]+)$", page.read_text(), re.M):
            importlib.import_module(module)


def test_the_readme_example_is_the_tested_first_app() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make demo") < readme.index("make test") < readme.index("```python")
    block = readme.split("```python\n", 1)[1].split("```", 1)[0]
    assert block == (EXAMPLES / "tutorial" / "first_app.py").read_text()
