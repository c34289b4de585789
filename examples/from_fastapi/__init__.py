"""A FastAPI application ported to ambi by changing its imports, and its tests.

The program is written as a FastAPI user writes one ("Bigger Applications" layout:
routers, dependencies, models, a mounted sub-app, exception handlers). Every `from
fastapi... import` line became a `from ambi... import` line; nothing else changed:

    from fastapi import FastAPI                     ->  from ambi import App as FastAPI
    from fastapi import APIRouter, Depends, ...     ->  from ambi import APIRouter, Depends, ...
    from fastapi.responses import JSONResponse      ->  from ambi.responses import JSONResponse
    from fastapi.encoders import jsonable_encoder   ->  from ambi.encoders import jsonable_encoder
    from fastapi.exceptions import ...              ->  from ambi.exceptions import ...
    from fastapi.exception_handlers import ...      ->  from ambi.exception_handlers import ...
    from fastapi.testclient import TestClient       ->  from ambi.testing import TestClient

`test_main.py` holds the program's own tests, FastAPI style (a module-level `client`).
ambi's suite (tests/examples/test_from_fastapi.py) runs them against this package and
against a copy whose imports are turned back into FastAPI's, and checks that the two
OpenAPI documents agree.

Run it: `cd examples && ambi run from_fastapi.main:app`.
"""
