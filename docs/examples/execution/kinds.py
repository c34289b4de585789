"""Where each kind of handler runs."""

import asyncio
import os
import threading
import time

from ambi import App

app = App(process_workers=1)  # the process pool starts with the app


def where() -> dict[str, str | int]:
    return {"thread": threading.current_thread().name, "pid": os.getpid()}


@app.get("/async")
async def on_the_loop():  # async def: awaited on the event loop
    await asyncio.sleep(0.01)
    return where()


@app.get("/def")
def in_the_pool():  # def: the thread pool (it may move inline if it proves trivial)
    time.sleep(0.01)
    return where()


@app.get("/thread", run="thread")
def always_in_the_pool():  # def, never inline
    return where()


@app.get("/inline", run="inline")
def on_the_loop_too():  # def you know is trivial: called on the loop, no thread hop
    return where()


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


@app.get("/fib/{n:int}", run="process")
def cpu_bound(n: int):
    # CPU-bound: in a process of its own (arguments and result must pickle)
    return {"fib": fib(n), **where()}


@app.get("/stats")
def stats():
    return app.handler_stats()  # the handlers by kind, and each route's kind
