"""Static files from a folder: ETag, 304, Range, HEAD; nothing outside it."""

from pathlib import Path

from ambi import App, StaticFiles

PUBLIC = Path(__file__).parent / "public"

app = App()
app.mount_static("/static", directory=PUBLIC)
# a single-page app: index.html for /app/, and for pages that are not files
app.mount("/app", StaticFiles(directory=PUBLIC, html=True, fallback="index.html"))


@app.get("/api/ping")
def ping():
    return {"pong": True}
