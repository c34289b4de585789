"""`ambi.status`: Starlette's (and so FastAPI's) status-code names."""

import starlette.status

from ambi import status


def test_every_starlette_name_with_its_value() -> None:
    for name in starlette.status.__all__:
        assert getattr(status, name) == getattr(starlette.status, name), name
    assert set(status.__all__) >= set(starlette.status.__all__)


def test_the_older_spellings_are_plain_aliases() -> None:
    assert status.HTTP_422_UNPROCESSABLE_ENTITY == status.HTTP_422_UNPROCESSABLE_CONTENT == 422
    assert status.HTTP_413_REQUEST_ENTITY_TOO_LARGE == 413
    assert status.HTTP_414_REQUEST_URI_TOO_LONG == 414
    assert status.HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE == 416
    assert status.WS_1008_POLICY_VIOLATION == 1008
