"""Uploads that stream: files are parsed as they arrive and spooled to temporary files
past 1 MiB, so a big upload never sits in memory.

Run it with `python examples/uploads.py`, then:
    curl -F 'file=@photo.png' http://127.0.0.1:8000/photos               # saved, not overwritten
    curl -F 'file=@big.iso' http://127.0.0.1:8000/avatar                 # 413: over 2 MB
    curl -F 'title=holiday' -F 'files=@a.jpg' -F 'files=@b.jpg' \\
         -F 'tags=sea' -F 'tags=sun' http://127.0.0.1:8000/albums        # several files + fields
    curl http://127.0.0.1:8000/photos                                    # what was saved
"""

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

from ambi import App, BaseModel, Field, File, Form, UploadFile

#: Where uploads are saved (AMBI_UPLOADS_DIR, or a fresh temporary folder).
MEDIA = Path(os.environ.get("AMBI_UPLOADS_DIR") or tempfile.mkdtemp(prefix="ambi-uploads-"))

app = App()


@app.post("/photos", status_code=201)
def save_photo(file: UploadFile = File(max_size="50MB")) -> dict[str, Any]:
    """A `def` handler: `save_to` copies in 1 MiB chunks under a safe, unused name."""
    path = file.save_to(MEDIA / "photos", stream=True)
    return {"filename": file.filename, "size": file.size, "saved_as": Path(path).name}


@app.get("/photos")
def list_photos() -> list[str]:
    folder = MEDIA / "photos"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@app.post("/avatar")
async def set_avatar(file: UploadFile = File(max_size="2MB")) -> dict[str, Any]:
    """An `async def` handler: a bigger file is a 413 as soon as it passes 2 MB; `await`
    on the file's methods runs them in the thread pool."""
    digest = hashlib.sha256(await file.read()).hexdigest()
    return {"content_type": file.content_type, "size": file.size, "sha256": digest}


class Album(BaseModel):
    title: str = Field(pattern=r"^[\w\- ]{1,60}$")  # it names a folder: no "/" or ".."
    tags: list[str] = Field(default_factory=list)


@app.post("/albums", status_code=201)
async def create_album(
    album: Annotated[Album, Form()],
    files: list[UploadFile] = File(max_size="20MB", max_length=10),
    cover: UploadFile | None = None,
) -> dict[str, Any]:
    """Form fields (a model) beside several files and an optional one."""
    folder = MEDIA / "albums" / album.title
    saved = [Path(await f.save_to(folder)).name for f in files]
    return {
        "title": album.title,
        "tags": album.tags,
        "files": saved,
        "bytes": sum(f.size for f in files),
        "cover": cover.filename if cover is not None else None,
    }


if __name__ == "__main__":
    print(f"saving uploads under {MEDIA}")
    app.listen(port=8000)
