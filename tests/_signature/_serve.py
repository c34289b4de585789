"""What the tests of handler arguments share: an app serving one handler, the 422 error
list, a body model."""

from collections.abc import Callable
from typing import Any

from ambi import App, BaseModel, Field
from ambi.testing import TestClient

MakeHandler = Callable[[Callable[..., Any]], Callable[..., Any]]
ClientFor = Callable[[App], TestClient]


def serve(
    client_for: ClientFor,
    make_handler: MakeHandler,
    fn: Callable[..., Any],
    path: str = "/t",
    method: str = "GET",
    **options: Any,
) -> TestClient:
    app = App()
    app.route(path, methods=[method], **options)(make_handler(fn))
    return client_for(app)


def detail(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    result: list[dict[str, Any]] = response.json()["detail"]
    return result


class Item(BaseModel):
    id: int = Field(ge=1)
    name: str | None = Field(None, max_length=5)
