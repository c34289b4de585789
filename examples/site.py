"""A small website: pages from Jinja2 templates, styles and scripts from a static folder.

Run it with `python examples/site.py` (or `ambi run examples.site:app` from the project
folder: as a file it would be shadowed by the standard `site` module), then open
http://127.0.0.1:8000/ . The files it serves live in `examples/site_files/`:
`public/` at `/static` (cached for an hour, revalidated with ETag), `templates/` for pages.
"""

from pathlib import Path

from ambi import App, HTTPException, Request
from ambi.templating import Jinja2Templates

HERE = Path(__file__).resolve().parent / "site_files"

app = App(title="ambi site example")
app.mount_static("/static", HERE / "public", cache_control="public, max-age=3600")
templates = Jinja2Templates(directory=HERE / "templates")

BIRDS = {
    1: {"name": "Robin", "song": "a clear warble"},
    2: {"name": "Wren", "song": "a loud trill for so small a bird"},
    3: {"name": "Blackbird", "song": "a fluting melody at dusk"},
}


@app.get("/")
async def home(request: Request):
    """An async handler: the page is rendered in the thread pool, off the event loop."""
    return templates.TemplateResponse(request, "index.html", {"birds": BIRDS})


@app.get("/birds/{bird_id:int}", name="bird")
def bird_page(request: Request, bird_id: int):
    """A def handler: it runs in the thread pool, and renders there."""
    bird = BIRDS.get(bird_id)
    if bird is None:
        raise HTTPException(404, f"no bird {bird_id}")
    return templates.TemplateResponse(request, "bird.html", {"bird": bird, "bird_id": bird_id})


@app.exception_handler(404)
def not_found(request: Request, exc: HTTPException):
    """Missing pages and missing static files get the site's own 404 page."""
    return templates.TemplateResponse(request, "404.html", {"detail": exc.detail}, 404)


if __name__ == "__main__":
    app.listen(port=8000)
