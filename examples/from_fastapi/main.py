"""The application: routers, a mounted sub-app, exception handlers, a raw webhook."""

import logging
from typing import Any

from ambi import App as FastAPI
from ambi import Request, status
from ambi.encoders import jsonable_encoder
from ambi.exceptions import RequestValidationError
from ambi.responses import JSONResponse

from . import legacy
from .routers import items, users

logger = logging.getLogger("shop")

app = FastAPI(
    title="Shop",
    summary="Items and the people who buy them.",
    version="2.0.0",
    openapi_tags=[
        {"name": "items", "description": "What is for sale."},
        {"name": "users", "description": "Who buys it."},
    ],
    license_info={"name": "MIT", "identifier": "MIT"},
)
app.include_router(users.router)
app.include_router(items.router)
app.mount("/legacy", legacy.app)


class UnicornException(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


@app.exception_handler(UnicornException)
async def unicorn_exception_handler(request: Request, exc: UnicornException) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_418_IM_A_TEAPOT,
        content={"message": f"Oops! {exc.name} did something. There goes a rainbow..."},
    )


@app.exception_handler(RequestValidationError)
async def validation_exception_handler(
    request: Request, exc: RequestValidationError
) -> JSONResponse:
    logger.info("invalid request to %s: %s", request.url.path, exc.errors())
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content=jsonable_encoder({"detail": exc.errors(), "body": exc.body}),
    )


@app.get("/")
async def root() -> dict[str, str]:
    return {"message": "Hello Bigger Applications!"}


@app.get("/unicorns/{name}")
async def read_unicorn(name: str) -> dict[str, str]:
    if name == "yolo":
        raise UnicornException(name=name)
    return {"unicorn_name": name}


@app.post("/webhooks/{source}", status_code=status.HTTP_202_ACCEPTED)
async def receive_webhook(source: str, request: Request) -> dict[str, Any]:
    payload = await request.json()
    raw = await request.body()
    return {"source": source, "event": payload.get("event"), "size": len(raw)}


@app.get("/whoami")
async def whoami(request: Request) -> dict[str, Any]:
    return {"client": request.client.host, "agent": request.headers["user-agent"]}
