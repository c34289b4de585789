"""OpenAPI 3.1 from the compiled handler plans, and the docs pages (Swagger UI, ReDoc)
served from assets shipped in the package."""

from ._docs import install_docs, openapi_document, redoc_html, swagger_ui_html
from ._generate import build_openapi

__all__ = ["build_openapi", "install_docs", "openapi_document", "redoc_html", "swagger_ui_html"]
