"""A route's dependency graph as straight-line Python, generated once per route.

`DependencyRunner` hands over the steps in run order, grouped as they run (consecutive
sync steps in one pool trip, each async step on the loop); this module writes the code
that runs them for one request, with every argument of every call spelled out:

    def first_trip(request):          # def dependencies and a def handler: one pool trip
        t0 = request._header('host')
        if not (type(t0) is str):
            values = validate(request)
            t0 = values['p0']
        r0 = f0(host=t0)
        g1 = f1()
        try:
            r1 = next(g1)
        except StopIteration:
            raise RuntimeError(m1) from None
        if request._after is None:
            request._after = (pending_exit, g1)   # the route's one generator: a pair
        else:
            after = request._after
            after.exits.append((g1, False))
            after.run_batch = cleanup
        return handler(user=r0, db=r1)

(awaited as `first(request)`, the trip's adaptive `Invoker`: in the pool, or inline once
proven trivial). An async step is awaited in `async def run(request)` instead, and a run
of sync steps between async ones is a trip of its own, given the results it takes.

Results live in local variables (`r<i>`), an entered generator (`g<i>`) is handed to the
request's after-send work at once, so nothing is allocated per request that the graph
does not need, and no loop, dict of keyword arguments or dispatch on a step's kind is left
to run per request.

The source is registered with `linecache` under a name per route, so tracebacks through
it show the generated line; `DependencyRunner.source` keeps it for reading.
"""

from __future__ import annotations

import itertools
import keyword
import linecache
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._signature import CallPlan, HandlerPlan
from .._signature._sources import BODY_FIELD, inline_read

if TYPE_CHECKING:
    from ._deps import Step

#: One group of steps: (is async, steps); an async group holds one step.
Segment = tuple[bool, tuple["Step", ...]]

_serial = itertools.count()
#: No input in a local variable: all read from `values`.
_VALUES: Mapping[str, str] = {}

# PERF: generated straight-line code, not a loop over steps building keyword arguments:
# GET /deps-sync 124k -> 73k instructions per request, GET /deps 117k -> 79k
# (bench_instructions; benchmarks/RESULTS.md, 2026-11-30).


def arguments(
    call: CallPlan, tag: str, namespace: dict[str, Any], fields: Mapping[str, str]
) -> str:
    """`call`'s keyword arguments as source (`name=<expression>, ...`); `fields` names the
    local variables holding validated inputs (the others are read from `values`)."""
    parts = [f"{name}=request" for name in call.request_names]
    for k, (name, factory) in enumerate(call.injected):
        namespace[f"{tag}_in{k}"] = factory
        parts.append(f"{name}={tag}_in{k}(request)")
    parts += [f"{name}={fields.get(field) or f'values[{field!r}]'}" for name, field in call.outputs]
    body = f"values[{BODY_FIELD!r}]"
    for name, attribute in call.body_args:
        if attribute is None:
            parts.append(f"{name}={body}")
        elif attribute.isidentifier() and not keyword.iskeyword(attribute):
            parts.append(f"{name}={body}.{attribute}")
        else:
            parts.append(f"{name}=getattr({body}, {attribute!r})")
    parts += [f"{name}=r{index}" for name, index in call.deps]
    return ", ".join(parts)


def step_lines(step: Step, namespace: dict[str, Any], fields: Mapping[str, str]) -> list[str]:
    """The lines running one dependency: its value in `r<index>`."""
    i = step.index
    namespace[f"f{i}"] = step.factory
    call = f"f{i}({arguments(step.call, f'f{i}', namespace, fields)})"
    if not step.is_gen:
        return [f"r{i} = {'await ' if step.is_async else ''}{call}"]
    namespace[f"m{i}"] = f"dependency {step.call.label} did not yield"
    if step.is_async:
        enter = [f"    r{i} = await g{i}.__anext__()", "except StopAsyncIteration:"]
    else:
        enter = [f"    r{i} = next(g{i})", "except StopIteration:"]
    lines = [f"g{i} = {call}", "try:", *enter, f"    raise RuntimeError(m{i}) from None"]
    entry = f"(g{i}, {step.is_async})"
    if step.scoped:  # closed right after the handler
        return [*lines, f"scoped.append({entry})"]
    # Request scope: the after-send work owns it from now on (also if a later step fails).
    # PERF: the route's only one: a pair on the request, no `AfterResponse` made
    # (bench_instructions "GET /deps-sync"; `PendingExit`).
    made = (
        f"(pending_exit, g{i})"
        if step.alone
        else f"AfterResponse(engine, label, [{entry}], cleanup)"
    )
    return [
        *lines,
        "if request._after is None:",
        f"    request._after = {made}",
        "else:",
        "    after = request._after",
        f"    after.exits.append({entry})",
        "    after.run_batch = cleanup",
    ]


def _used_after(segments: Sequence[Segment], position: int, handler: CallPlan) -> list[int]:
    """The results made by segment `position` that later steps or the handler take."""
    made = {step.index for step in segments[position][1]}
    later = [step.call for _, steps in segments[position + 1 :] for step in steps]
    return sorted({index for call in (*later, handler) for _, index in call.deps} & made)


def _taken(steps: Sequence[Step], handler: CallPlan | None) -> list[int]:
    """The results of earlier segments that `steps` (and `handler`) take."""
    made = {step.index for step in steps}
    calls = [step.call for step in steps] + ([handler] if handler is not None else [])
    return sorted({index for call in calls for _, index in call.deps} - made)


def trip_function(
    name: str,
    steps: Sequence[Step],
    handler: CallPlan | None,
    namespace: dict[str, Any],
    *,
    returns: Sequence[int] = (),
    scoped: bool = False,
    fields: Mapping[str, str] = _VALUES,
) -> tuple[list[str], list[str]]:
    """One pool trip, `name(request, values[, scoped], r<earlier>...)`: its parameters and
    the lines of its body."""
    params = ["request", "values", *(["scoped"] if scoped else [])]
    params += [f"r{index}" for index in _taken(steps, handler)]
    body = [line for step in steps for line in step_lines(step, namespace, fields)]
    if handler is not None:
        namespace["handler"] = handler.fn
        body.append(f"return handler({arguments(handler, 'handler', namespace, fields)})")
    else:
        body.append(f"return ({''.join(f'r{index}, ' for index in returns)})")
    return params, body


def values_lines(plan: HandlerPlan, namespace: dict[str, Any]) -> list[str]:
    """The lines setting `values`: the validated inputs of the route, by field."""
    if plan.model is None:
        return ["values = NO_VALUES"]
    if plan.text_inputs is None:
        return ["values = validate(request)"]
    # PERF: text inputs, all found, are their own values: no model built, no call of the
    # validator's (bench_instructions "GET /deps-sync": the Host header).
    lines, found = _read_texts(plan.text_inputs, namespace)
    fields = ", ".join(f"{field!r}: t{k}" for k, (field, _) in enumerate(plan.text_inputs))
    return [*lines, f"values = {{{fields}}} if {found} else validate(request)"]


def text_lines(plan: HandlerPlan, namespace: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """For a route run in one function: the lines validating its inputs, and the local
    variable holding each (`t<k>`) when they are all text; else `values_lines`."""
    if plan.text_inputs is None:
        return values_lines(plan, namespace), {}
    lines, found = _read_texts(plan.text_inputs, namespace)
    fields = {field: f"t{k}" for k, (field, _) in enumerate(plan.text_inputs)}
    fallback = [f"    {name} = values[{field!r}]" for field, name in fields.items()]
    return [*lines, f"if not ({found}):", "    values = validate(request)", *fallback], fields


def _read_texts(
    inputs: Sequence[tuple[str, Any]], namespace: dict[str, Any]
) -> tuple[list[str], str]:
    """The lines reading each text input into `t<k>`, and the test that all were found."""
    lines = []
    for k, (_, get) in enumerate(inputs):
        read = inline_read(get)
        if read is not None and read[0] == "header":  # None when absent: not a str
            # PERF: the header read inline, as `_gather` does (GET /deps-sync: its Host).
            lines.append(f"t{k} = request._header({read[1]!r})")
        else:
            namespace[f"text{k}"] = get
            lines.append(f"t{k} = text{k}(request)")
    return lines, " and ".join(f"type(t{k}) is str" for k in range(len(inputs)))


def run_function(
    segments: Sequence[Segment],
    plan: HandlerPlan,
    joins: bool,
    namespace: dict[str, Any],
) -> list[str]:
    """The source of the route's run (`run(request)`, awaited by the route) and of its
    sync trips. The first trip is called as `first(...)` (the route's first pool job,
    adaptive); later ones go to the pool as `engine.run_in_thread(trip<k>, ...)`. A
    route whose dependencies and handler are all sync is one trip, `first_trip(request)`,
    and no `run`: the route awaits `first(request)`."""
    scoped = any(step.scoped for _, steps in segments for step in steps)
    handler = plan.handler
    if len(segments) == 1 and joins and not scoped:
        # PERF: one sync trip holds everything, the validation too: the route awaits the
        # trip itself (`first`), no function or coroutine of ours around it (GET /deps-sync).
        values, fields = text_lines(plan, namespace)
        _, trip = trip_function("first_trip", segments[0][1], handler, namespace, fields=fields)
        return ["def first_trip(request):", *(f"    {line}" for line in (*values, *trip))]
    values = [f"    {line}" for line in values_lines(plan, namespace)]
    source: list[str] = []
    body: list[str] = []
    last = len(segments) - 1
    for position, (is_async, steps) in enumerate(segments):
        if is_async:
            body += step_lines(steps[0], namespace, _VALUES)
            continue
        call = handler if joins and position == last else None
        returns = [] if call is not None else _used_after(segments, position, handler)
        name = "first_trip" if position == 0 else f"trip{position}"
        params, trip = trip_function(name, steps, call, namespace, returns=returns, scoped=scoped)
        args = ", ".join(params)
        source += [f"def {name}({args}):", *(f"    {line}" for line in trip), ""]
        target = f"first({args})" if position == 0 else f"engine.run_in_thread({name}, {args})"
        if call is not None:
            body.append(f"result = await {target}")
        elif returns:
            body.append(f"{''.join(f'r{index}, ' for index in returns)}= await {target}")
        else:
            body.append(f"await {target}")
    if not joins:
        arguments_ = arguments(handler, "handler", namespace, _VALUES)
        body.append(f"result = await invoker({arguments_})")
    lines = ["async def run(request):", *values]
    if not scoped:
        body[-1] = body[-1].replace("result = ", "return ", 1)  # the handler's, or the trip's
        return [*source, *lines, *(f"    {line}" for line in body)]
    return [
        *source,
        *lines,
        "    scoped = []",
        "    try:",
        *(f"        {line}" for line in body),
        "    except BaseException as exc:",
        "        await close_scoped(scoped, exc)",
        "        raise",
        "    await close_scoped(scoped, None)",
        "    return result",
    ]


def build(lines: list[str], namespace: dict[str, Any], label: str) -> str:
    """Compile the generated `lines` into `namespace`; the source."""
    source = "\n".join(lines) + "\n"
    filename = f"<ambi dependencies {label} #{next(_serial)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)  # our own text, written above
    return source
