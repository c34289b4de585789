"""What the seed-example tests share."""

from typing import Any


def errors(response: Any) -> list[tuple[tuple[Any, ...], str]]:
    """(loc, type) of every error in a 422 body, sorted."""
    assert response.status_code == 422, response.text
    return sorted((tuple(e["loc"]), e["type"]) for e in response.json()["detail"])
