"""File uploads: streamed as they arrive, spooled to disk past 1 MiB."""

import hashlib
from typing import Annotated

from ambi import App, File, Form, UploadFile

app = App()


@app.post("/avatar")
def upload_avatar(
    user: Annotated[str, Form()],
    file: Annotated[UploadFile, File(max_size="1MB")],
):
    data = file.read()  # a plain call in a `def` handler
    return {
        "user": user,
        "filename": file.filename,
        "content_type": file.content_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


@app.post("/attachments")
async def upload_many(files: Annotated[list[UploadFile], File()]):
    sizes = {}
    for upload in files:
        data = await upload.read()  # read in the pool, not on the loop
        sizes[upload.filename] = len(data)
    return sizes
