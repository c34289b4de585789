"""An mkdocs hook: the performance page's charts, drawn at build time from the recorded runs.

A page asks for a chart with a comment on a line of its own::

    <!-- chart section="full run" heading="GET /json" value="req/s (median)" label="contender" -->

The hook finds, in `benchmarks/RESULTS.md`, the newest table (the file lists runs newest
first) of a run whose `## ` title contains `section` (optional), under a nearest heading
containing `heading`, that has the columns `label` and `value`,
and puts in its place an inline SVG bar chart of those numbers (ambi's bars highlighted),
with the run it comes from as the caption. A chart that finds no table fails the build,
so a renamed heading or column cannot leave a stale picture behind: nothing is pasted.
"""

from __future__ import annotations

import html
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "RESULTS.md"
CHART = re.compile(r"^<!-- chart (?P<args>.*?) -->$", re.M)
HEADING = re.compile(r"^(#{2,6}) (.*)$")
DIVIDER = re.compile(r"^\|[-:| ]+\|$")
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


class ChartError(ValueError):
    """A chart that the recorded results cannot draw."""


@dataclass
class Table:
    """One markdown table of RESULTS.md and the headings above it."""

    section: str  # the `## date — title` it is under
    headings: list[str]  # every heading above it, outermost first
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    commit: str | None = None  # the section's `ambi: <commit>` line, when it has one

    def column(self, name: str) -> int | None:
        for index, column in enumerate(self.columns):
            if column.strip().lower() == name.lower():
                return index
        return None


def parse_tables(text: str) -> list[Table]:
    """Every table of a results file, in file order, with its headings."""
    tables: list[Table] = []
    headings: list[tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):  # skip code blocks: a `#` in them is not a heading
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                i += 1
        elif match := HEADING.match(line):
            level = len(match[1])
            headings = [(lvl, h) for lvl, h in headings if lvl < level] + [(level, match[2])]
        elif line.startswith("|") and i + 1 < len(lines) and DIVIDER.match(lines[i + 1]):
            section = next((h for lvl, h in headings if lvl == 2), "")
            table = Table(section, [h for _, h in headings], _cells(line))
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                table.rows.append(_cells(lines[i]))
                i += 1
            tables.append(table)
            continue
        i += 1
    _commits(text, tables)
    return tables


def _commits(text: str, tables: list[Table]) -> None:
    """A section's `- ambi: <commit>` line (the runner's report) names the run's commit."""
    for block in re.split(r"^## ", text, flags=re.M)[1:]:
        title = block.splitlines()[0]
        found = re.search(r"^- ambi: `?([0-9a-f]{7,40})`?", block, re.M)
        if found:
            for table in tables:
                if table.section == title:
                    table.commit = found[1]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def number(cell: str) -> float:
    """`46,871` -> 46871.0, `**5.02x**` -> 5.02, `64.0k` -> 64000.0."""
    found = NUMBER.search(cell)
    if found is None:
        raise ChartError(f"no number in the cell {cell!r}")
    value = float(found.group().replace(",", ""))
    rest = cell[found.end() :].strip("* ")
    return value * 1000 if rest.startswith("k") else value


@dataclass
class Chart:
    title: str
    value: str
    bars: list[tuple[str, float, str]]  # label, value, the cell as recorded
    source: Table


def find_chart(
    tables: list[Table], heading: str, value: str, label: str, section: str = ""
) -> Chart:
    """The first (newest) table whose nearest heading contains `heading`, in a run whose
    `## ` title contains `section`, with both columns."""
    for table in tables:
        title = table.headings[-1] if table.headings else ""
        value_at, label_at = table.column(value), table.column(label)
        if heading not in title or section not in table.section:
            continue
        if value_at is None or label_at is None:
            continue
        bars = []
        for row in table.rows:
            if len(row) > max(value_at, label_at):
                name = row[label_at].replace("`", "").strip("* ")
                bars.append((name, number(row[value_at]), row[value_at].strip("*")))
        if bars:
            return Chart(title, value, bars, table)
    raise ChartError(
        f"benchmarks/RESULTS.md has no table under a heading containing {heading!r} "
        f"(in a run titled with {section!r}) with the columns {label!r} and {value!r}"
    )


def svg(chart: Chart) -> str:
    """A horizontal bar chart; ambi's bars in the theme's accent colour."""
    bar_height, gap = 22, 6
    longest = max(len(name) for name, _, _ in chart.bars)
    label_width = min(360, int(longest * 7.4) + 16)  # about 7 px a character at 13 px
    plot = 420
    width = label_width + plot + 90
    top = max(value for _, value, _ in chart.bars) or 1.0
    height = len(chart.bars) * (bar_height + gap) + gap
    parts = [
        f'<svg class="bench-chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" '
        f'aria-label="{html.escape(chart.title)}: {html.escape(chart.value)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="13" font-family="sans-serif">'
    ]
    for index, (name, value, shown) in enumerate(chart.bars):
        y = gap + index * (bar_height + gap)
        length = max(1.0, plot * value / top)
        ours = name.startswith("ambi")
        fill = "#3f51b5" if ours else "#9e9e9e"
        weight = ' font-weight="bold"' if ours else ""
        parts += [
            f'<text x="{label_width - 8}" y="{y + bar_height * 0.7:.1f}" text-anchor="end" '
            f'fill="currentColor"{weight}>{html.escape(name)}</text>',
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
            f'rx="3" fill="{fill}"><title>{html.escape(name)}: {html.escape(shown)}</title></rect>',
            f'<text x="{label_width + length + 6:.1f}" y="{y + bar_height * 0.7:.1f}" '
            f'fill="currentColor">{html.escape(shown)}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)


def figure(chart: Chart) -> str:
    source = chart.source
    run = "" if chart.title == source.section else f", run “{html.escape(source.section)}”"
    commit = f", ambi at <code>{source.commit}</code>" if source.commit else ""
    return (
        f'<figure class="bench-figure">{svg(chart)}<figcaption><strong>'
        f"{html.escape(chart.title)}</strong>: {html.escape(chart.value)} "
        f"(benchmarks/RESULTS.md{run}{commit})</figcaption></figure>"
    )


def render(markdown: str, results: str) -> str:
    """`markdown` with each chart comment replaced by its figure."""
    tables = parse_tables(results)

    def replace(match: re.Match[str]) -> str:
        args = dict(item.split("=", 1) for item in shlex.split(match["args"]))
        missing = {"heading", "value", "label"} - args.keys()
        if missing or args.keys() - {"heading", "value", "label", "section"}:
            raise ChartError(f"a chart comment takes heading, value, label, section: {match[0]}")
        return figure(find_chart(tables, **args))

    return CHART.sub(replace, markdown)


# mkdocs hook events ------------------------------------------------------------------------


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if "<!-- chart " not in markdown:
        return markdown
    from mkdocs.exceptions import PluginError

    try:
        return render(markdown, RESULTS.read_text(encoding="utf-8"))
    except (ChartError, OSError) as exc:
        raise PluginError(f"{page.file.src_uri}: {exc}") from exc


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    server.watch(str(RESULTS))  # `make docs-serve` redraws when a run is recorded
    return server
