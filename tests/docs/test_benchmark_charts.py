"""The performance page's build hook (docs/hooks/benchmarks.py): charts from recorded runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docs.hooks.benchmarks import ChartError, find_chart, number, parse_tables, render

RESULTS = """# Benchmark results

## 2026-12-01 — second full run

```sh
# not a heading
| not | a table |
```

### Run

- ambi: abc1234

#### GET /json (async)

| contender | server | req/s (median) |
|---|---|--:|
| ambi | Granian | 50,000 |
| fastapi | uvicorn | **10,000** |

## 2026-11-21 — first full run

- ambi: 274bb1c

#### GET /json (async)

| contender | server | req/s (median) |
|---|---|--:|
| ambi | Granian | 46,871 |

## 2026-11-20 — instructions

| case | after |
|---|--:|
| GET /json | 64.0k |
"""

COMMENT = (
    '<!-- chart section="full run" heading="GET /json" value="req/s (median)" label="contender" -->'
)


def test_the_newest_run_is_drawn() -> None:
    chart = find_chart(parse_tables(RESULTS), "GET /json", "req/s (median)", "contender")
    assert chart.bars == [("ambi", 50000.0, "50,000"), ("fastapi", 10000.0, "10,000")]
    assert chart.source.section == "2026-12-01 — second full run"
    assert chart.source.commit == "abc1234"


def test_a_section_narrows_the_search() -> None:
    tables = parse_tables(RESULTS)
    chart = find_chart(tables, "GET /json", "req/s (median)", "contender", section="first")
    assert chart.bars == [("ambi", 46871.0, "46,871")]
    assert chart.source.commit == "274bb1c"


def test_code_blocks_are_not_tables_or_headings() -> None:
    tables = parse_tables(RESULTS)
    assert [t.columns[0] for t in tables] == ["contender", "contender", "case"]


@pytest.mark.parametrize(
    ("cell", "value"), [("46,871", 46871.0), ("**5.02x**", 5.02), ("64.0k", 64000.0)]
)
def test_numbers(cell: str, value: float) -> None:
    assert number(cell) == value


def test_render_replaces_the_comment_with_a_figure() -> None:
    page = render(f"# Performance\n\n{COMMENT}\n\ntext\n", RESULTS)
    assert COMMENT not in page
    svg = re.search(r"<svg .*?</svg>", page)
    assert svg is not None
    assert svg[0].count("<rect") == 2
    assert 'fill="#3f51b5"' in svg[0]  # ambi's bar
    assert "ambi at <code>abc1234</code>" in page


def test_a_chart_without_data_fails_the_build() -> None:
    with pytest.raises(ChartError, match="no table"):
        render(COMMENT.replace("GET /json", "GET /nothing"), RESULTS)
    with pytest.raises(ChartError, match="takes heading"):
        render('<!-- chart heading="GET /json" -->', RESULTS)


def test_the_recorded_results_draw_every_chart_of_the_page() -> None:
    root = Path(__file__).resolve().parents[2]
    page = (root / "docs" / "performance.md").read_text()
    drawn = render(page, (root / "benchmarks" / "RESULTS.md").read_text())
    assert drawn.count("<svg") == page.count("<!-- chart ") == 7
