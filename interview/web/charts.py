"""The dashboard's charts as geometry: rectangles, labels and ticks in an SVG viewBox, drawn
by the template (templates/charts.html) on the server, so they need no script and no style
attribute (the page's CSP forbids both inline). Right to left, the horizontal axis is
mirrored: bars grow from the right, and time runs from right to left."""
from __future__ import annotations

from typing import Any

WIDTH = 600


def _mirror(x: float, w: float, rtl: bool) -> float:
    return WIDTH - x - w if rtl else x


def _scale(top: float) -> float:
    """A round top for an axis holding `top`."""
    if top <= 0:
        return 1
    magnitude = 10 ** (len(str(int(top))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if top <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def columns(points: list[tuple[str, int]], rtl: bool, number) -> dict[str, Any]:
    """Vertical bars, one a period (assessments over time)."""
    height, left, right, top, bottom = 220, 64, 10, 12, 36
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    peak = _scale(max((v for _, v in points), default=0))
    slot = plot_w / max(1, len(points))
    bars = []
    every = max(1, round(len(points) / 6))
    for index, (label, value) in enumerate(points):
        h = plot_h * value / peak
        w = max(1.0, slot * 0.8)
        x = _mirror(left + index * slot + slot * 0.1, w, rtl)
        bars.append({"x": round(x, 2), "y": round(top + plot_h - h, 2), "w": round(w, 2), "h": round(h, 2),
                     "label": label, "value": value, "show_label": index % every == 0 or index == len(points) - 1,
                     "cx": round(x + w / 2, 2)})
    axis_x = WIDTH - left if rtl else left
    return {"height": height, "bars": bars, "base_y": top + plot_h, "label_y": top + plot_h + 16,
            "axis_x": axis_x, "left": min(left, WIDTH - left), "right": max(WIDTH - right, WIDTH - left),
            "ticks": [{"y": round(top + plot_h - plot_h * f, 2), "text": number(peak * f)} for f in (0, 0.5, 1)],
            "tick_x": axis_x + (6 if rtl else -6), "anchor": "start" if rtl else "end"}


def stacked(rows: list[dict], keys: tuple[str, ...], rtl: bool) -> dict[str, Any]:
    """One 100 % bar a row (the fiches' status shares), and a thin bar under it for `planned`."""
    label_w, row_h, gap = 64, 16, 10
    plot_w = WIDTH - label_w - 8
    out = []
    for index, row in enumerate(rows):
        y = 4 + index * (row_h + 6 + gap)
        segments, x = [], label_w
        for key in keys:
            w = plot_w * row["shares"][key]
            if w > 0:
                segments.append({"key": key, "x": round(_mirror(x, w, rtl), 2), "w": round(w, 2),
                                 "share": row["shares"][key]})
            x += w
        planned = plot_w * row["shares"]["planned"]
        out.append({"label": row["label"], "y": y, "h": row_h, "segments": segments,
                    "planned": {"x": round(_mirror(label_w, planned, rtl), 2), "w": round(planned, 2),
                                "y": y + row_h + 2, "h": 4},
                    "label_x": WIDTH - label_w + 6 if rtl else label_w - 6, "text_y": y + row_h - 3})
    return {"height": 8 + len(rows) * (row_h + 6 + gap), "rows": out, "anchor": "start" if rtl else "end"}


def bars(rows: list[tuple[str, float, str]], rtl: bool, label_w: int = 100) -> dict[str, Any]:
    """Horizontal bars, (label, value, value as text) a row, on a scale from 0 to the largest."""
    row_h, gap = 20, 10
    value_w = 230
    plot_w = WIDTH - label_w - value_w - 8
    peak = max((v for _, v, _ in rows), default=0) or 1
    out = []
    for index, (label, value, text) in enumerate(rows):
        y = 4 + index * (row_h + gap)
        w = plot_w * value / peak
        x = _mirror(label_w, w, rtl)
        out.append({"label": label, "y": y, "h": row_h, "x": round(x, 2), "w": round(w, 2), "text": text,
                    "label_x": WIDTH - label_w + 6 if rtl else label_w - 6,
                    "value_x": round(x - 6 if rtl else x + w + 6, 2), "text_y": y + row_h - 4})
    return {"height": 8 + len(rows) * (row_h + gap), "rows": out,
            "anchor": "start" if rtl else "end", "value_anchor": "end" if rtl else "start"}
