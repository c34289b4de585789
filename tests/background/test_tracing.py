"""Spans of the distributed queue's worker, with `app.enable_tracing()`: one per run of a
task, the child of the request that queued it (its trace context travels in the message),
with the run's outcome and exception. Against the real Redis and NATS; the worker runs in
this process (`serve`, what `ambi worker` runs) so that the SDK's in-memory exporter
sees its spans; it only knows the request's context from the message."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from ambi import App
from ambi.background._worker import serve
from ambi.testing import AsyncTestClient

pytestmark = pytest.mark.server

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


def current_span_id(n: int) -> list[int]:
    """A task: `n` and the id of the span it runs in (a `def`: in the worker's pool)."""
    return [n, trace.get_current_span().get_span_context().span_id]


async def current_span_id_async(n: int) -> list[int]:
    return [n, trace.get_current_span().get_span_context().span_id]


def refuse(n: int) -> None:
    raise ValueError(f"no {n}")


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.shutdown()


def make_app(backend: str, queue_name: str, provider: TracerProvider) -> App:
    app = App()
    app.enable_background_tasks(
        backend=backend, queue_name=queue_name, visibility_timeout=3, max_backoff=0.2
    )
    app.enable_tracing(tracer_provider=provider)
    return app


def run_with_worker(
    backend: str, queue_name: str, exporter: InMemorySpanExporter, calls: list[dict[str, Any]]
) -> list[Any]:
    """Queue each of `calls` from a request (with a `traceparent`) to a traced app, run
    them in a traced worker, and give their final statuses."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    sender = make_app(backend, queue_name, provider)
    worker = make_app(backend, queue_name, provider)
    tasks = {
        "sync": current_span_id,
        "async": current_span_id_async,
        "refuse": refuse,
    }

    @sender.post("/jobs")
    async def jobs(kind: str, n: int, retries: int = 0) -> dict[str, str]:
        task_id = sender.tasks.submit(tasks[kind], (n,), max_retries=retries)
        await sender.tasks.flush()
        return {"id": task_id}

    async def scenario() -> list[Any]:
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(worker, stop))
        try:
            async with AsyncTestClient(sender) as client:
                ids = []
                for call in calls:
                    answer = await client.post(
                        "/jobs", params=call, headers={"traceparent": TRACEPARENT}
                    )
                    ids.append(answer.json()["id"])
                return [await sender.tasks.wait(i, 20) for i in ids]
        finally:
            stop.set()
            await asyncio.wait_for(serving, 20)

    return asyncio.run(asyncio.wait_for(scenario(), 60))


def by_kind(exporter: InMemorySpanExporter) -> tuple[list[ReadableSpan], list[ReadableSpan]]:
    spans = exporter.get_finished_spans()
    requests = [s for s in spans if s.kind is SpanKind.SERVER]
    runs = [s for s in spans if s.kind is SpanKind.CONSUMER]
    return requests, runs


def test_a_worker_run_is_a_child_of_the_request_that_queued_it(
    backend: str, queue_name: str, exporter: InMemorySpanExporter
) -> None:
    statuses = run_with_worker(
        backend, queue_name, exporter, [{"kind": "sync", "n": 1}, {"kind": "async", "n": 2}]
    )
    assert [s.state for s in statuses] == ["done", "done"]
    requests, runs = by_kind(exporter)
    assert [s.name for s in requests] == ["POST /jobs", "POST /jobs"]
    runs.sort(key=lambda s: s.attributes["ambi.task.attempt"] if s.attributes else 0)
    for status, request in zip(statuses, requests, strict=True):
        (run,) = [r for r in runs if r.attributes and r.attributes["ambi.task.id"] == status.id]
        name = status.name
        assert run.name == f"task {name}"
        assert f"{run.context.trace_id:032x}" == TRACE_ID
        assert run.parent is not None
        assert run.parent.span_id == request.context.span_id  # queued by that request
        assert run.parent.is_remote  # known from the message only
        assert dict(run.attributes or {}) == {
            "ambi.task.name": name,
            "ambi.task.id": status.id,
            "ambi.task.attempt": 1,
            "ambi.task.outcome": "done",
        }
        assert run.status.status_code is StatusCode.UNSET
        assert status.result[1] == run.context.span_id  # the task ran inside the span


def test_failed_runs_carry_their_exception_and_each_retry_has_a_span(
    backend: str, queue_name: str, exporter: InMemorySpanExporter
) -> None:
    (status,) = run_with_worker(
        backend, queue_name, exporter, [{"kind": "refuse", "n": 3, "retries": 1}]
    )
    assert (status.state, status.attempts) == ("failed", 2)
    (request,), runs = by_kind(exporter)
    runs.sort(key=lambda s: s.attributes["ambi.task.attempt"] if s.attributes else 0)
    assert [(r.attributes or {})["ambi.task.outcome"] for r in runs] == ["retried", "failed"]
    for attempt, run in enumerate(runs, start=1):
        assert (run.attributes or {})["ambi.task.attempt"] == attempt
        assert run.parent is not None
        assert run.parent.span_id == request.context.span_id  # the retry keeps the context
        assert run.status.status_code is StatusCode.ERROR
        (event,) = run.events
        assert event.name == "exception"
        assert (event.attributes or {})["exception.type"] == "ValueError"
        assert (event.attributes or {})["exception.message"] == "no 3"


def test_messages_carry_a_trace_context_only_with_tracing_on() -> None:
    def queued(app: App) -> dict[str, Any]:
        app.add_task(current_span_id, 1)  # not started: the message waits in the app
        return app.tasks._pending[-1]  # type: ignore[attr-defined,no-any-return]

    plain = App()
    plain.enable_background_tasks(backend="redis://127.0.0.1:6379/0", queue_name="unsent")
    assert "trace" not in queued(plain)

    traced = App()
    traced.enable_background_tasks(backend="redis://127.0.0.1:6379/0", queue_name="unsent")
    provider = TracerProvider()
    traced.enable_tracing(tracer_provider=provider)
    with provider.get_tracer("test").start_as_current_span("caller") as caller:
        message = queued(traced)
    span_id = f"{caller.get_span_context().span_id:016x}"
    assert message["trace"]["traceparent"].split("-")[2] == span_id
