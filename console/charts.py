"""Charts drawn on the server as plain SVG in the page: no script, no image service,
nothing for the strict Content-Security-Policy to allow. A chart is geometry computed
here and markup in templates/console/_chart_*.html; each comes with its figures as a
table for screen readers and for copying.

Templates rather than a chart library: the three shapes needed (columns, paired
bars with a marker) are a few lines each, and a library's SVG would bring inline
styles and scripts the CSP refuses.
"""

from .numbers import StageTime

HEIGHT = 140  # drawing height of a column chart, in SVG units
COLUMN, GAP = 22, 6
ROW, LABEL = 26, 0


def columns(points: list[tuple[str, int]]) -> dict:
    """A column per (label, value), scaled to the largest value."""
    top = max((value for _, value in points), default=0) or 1
    bars = []
    for n, (label, value) in enumerate(points):
        height = round(value / top * HEIGHT)
        bars.append(
            {
                "x": n * (COLUMN + GAP),
                "y": HEIGHT - height,
                "height": height,
                "width": COLUMN,
                "label": label,
                "value": value,
                "text_x": n * (COLUMN + GAP) + COLUMN / 2,
            }
        )
    return {
        "bars": bars,
        "width": max(len(points) * (COLUMN + GAP), COLUMN),
        "height": HEIGHT + 34,
        "base": HEIGHT,
        "top": top,
    }


def stage_bars(times: list[StageTime], width: int = 300) -> dict:
    """Per stage: its median and 90th percentile as bars, its expected minutes as a
    marker, on one scale."""
    top = max([t.p90_minutes for t in times] + [t.stage.expected_minutes for t in times] + [1])
    rows = []
    for n, t in enumerate(times):
        scale = width / top
        rows.append(
            {
                "time": t,
                "y": n * ROW * 2,
                "median": round(t.median_minutes * scale, 1),
                "p90": round(t.p90_minutes * scale, 1),
                "expected": round(t.stage.expected_minutes * scale, 1),
                "late": t.median_minutes > t.stage.expected_minutes > 0,
            }
        )
    return {"rows": rows, "width": width, "height": max(len(rows), 1) * ROW * 2, "top": top}
