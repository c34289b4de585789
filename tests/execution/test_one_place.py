"""`ambi.execution` is the one place that decides sync vs async: no other module of the
package inspects a callable or a result for it (ARCHITECTURE.md, issue 21)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ambi

PACKAGE = Path(ambi.__file__).parent

#: Ways of asking "is it async?" of a callable or of what it gave.
DECISIONS = re.compile(
    r"""
    \b(?:iscoroutinefunction|isasyncgenfunction|isgeneratorfunction|isawaitable
        |iscoroutine|isasyncgen|isgenerator|markcoroutinefunction|_is_coroutine)\b
    | \bCO_(?:COROUTINE|ASYNC_GENERATOR|GENERATOR|ITERABLE_COROUTINE)\b
    | isinstance\([^)]*\b(?:Awaitable|Coroutine|AsyncIterable|AsyncIterator|AsyncGenerator
        |AbstractAsyncContextManager|AbstractContextManager
        |CoroutineType|AsyncGeneratorType|GeneratorType)\b
    | hasattr\([^)]*["']__(?:aenter|aexit|anext|aiter|await)__["']
    """,
    re.VERBOSE,
)


def decisions_in(text: str) -> list[str]:
    """The lines of `text` that decide sync vs async themselves."""
    return [line.strip() for line in text.splitlines() if DECISIONS.search(line)]


def test_no_sync_async_decision_outside_execution() -> None:
    found = {
        str(path.relative_to(PACKAGE)): hits
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] != "execution"
        and (hits := decisions_in(path.read_text(encoding="utf-8")))
    }
    assert not found, f"ask ambi.execution instead: {found}"


def test_the_execution_package_is_where_they_are() -> None:
    assert decisions_in((PACKAGE / "execution" / "_classify.py").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "line",
    [
        "if inspect.iscoroutinefunction(fn):",
        "if asyncio.iscoroutine(result):",
        "elif inspect.isawaitable(aw):",
        "from inspect import isasyncgenfunction",
        "if isinstance(content, AsyncIterable):",
        "if isinstance(obj, (bytes, Awaitable)):",
        'if hasattr(cls, "__aenter__") and hasattr(cls, "__aexit__"):',
        "flags & inspect.CO_COROUTINE",
        "if isinstance(cm, AbstractAsyncContextManager):",
    ],
)
def test_the_check_sees_each_form(line: str) -> None:
    assert decisions_in(line) == [line]


@pytest.mark.parametrize(
    "line",
    [
        "async def __aenter__(self) -> Self:",
        "result = await self.invoker(request)",
        "if is_awaitable(result):",
        "isinstance(content, bytes)",
    ],
)
def test_the_check_leaves_other_code_alone(line: str) -> None:
    assert decisions_in(line) == []
