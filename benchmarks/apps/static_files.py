"""The apps of `benchmarks/bench_static.py`: one folder of files, served three ways.

The folder is named by the environment variable `BENCH_STATIC_DIR`.
"""

import os

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles as StarletteStaticFiles

from ambi import App

DIRECTORY = os.environ["BENCH_STATIC_DIR"]

# ambi's StaticFiles (Granian's file sending on RSGI; pooled chunk reads on ASGI)
ambi_app = App(openapi_url=None, docs_url=None, redoc_url=None)
ambi_app.mount_static("/static", DIRECTORY)

# Starlette's StaticFiles in a Starlette app: the FastAPI way
starlette_app = Starlette(routes=[Mount("/static", StarletteStaticFiles(directory=DIRECTORY))])

# Starlette's StaticFiles mounted in an ambi app (the ASGI-over-RSGI bridge on RSGI)
mounted_app = App(openapi_url=None, docs_url=None, redoc_url=None)
mounted_app.mount("/static", StarletteStaticFiles(directory=DIRECTORY))
