"""Dependencies shared by the routers."""

from typing import Annotated

from ambi import Header, HTTPException, Response, status


async def get_token_header(x_token: Annotated[str, Header()]) -> None:
    if x_token != "fake-super-secret-token":
        raise HTTPException(
            status_code=status.HTTP_400_BAD_REQUEST, detail="X-Token header invalid"
        )


def api_version(response: Response) -> str:
    """Tags every response of the routes that use it (FastAPI's Response parameter)."""
    response.headers["X-API-Version"] = "2"
    return "2"
