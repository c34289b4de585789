"""The old API, still served under /legacy by the new one (a mounted sub-application)."""

from ambi import App as FastAPI

app = FastAPI(title="Legacy API")


@app.get("/ping")
def ping() -> dict[str, bool]:
    return {"legacy": True}
