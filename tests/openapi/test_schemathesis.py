"""Property-based API testing of the example apps with schemathesis, from their own
OpenAPI documents: no 5xx, and every response matches its documented schema, content type
and headers.

Left out on purpose:
- `status_code_conformance` and `positive_data_acceptance`: the examples answer 404 for ids
  they do not hold (`HTTPException(404)`), which the document does not list and which
  valid-looking data can reach.
- `negative_data_rejection`: validation is pydantic's lax mode, as in FastAPI, so `0` is
  accepted for a boolean and `"5"` for an integer although the JSON Schema says otherwise.

Bounded with `max_examples` to keep the run short.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
)

from tests.examples._load import load_example

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]

shop = schemathesis.openapi.from_asgi("/openapi.json", load_example("shop").app)


@shop.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_shop_example(case: Case) -> None:
    case.call_and_validate(checks=CHECKS)
