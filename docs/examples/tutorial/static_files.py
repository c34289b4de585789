"""Static files from a folder: ETag, 304, Range, HEAD; nothing outside it."""

from pathlib import Path

from ambi import App

PUBLIC = Path(__file__).parent / "public"

app = App()
app.mount_static("/static", directory=PUBLIC)


@app.get("/api/ping")
def ping():
    return {"pong": True}
