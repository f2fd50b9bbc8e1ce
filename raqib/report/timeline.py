"""A timeline of an article's versions, drawn as SVG on the server.

Time runs right to left, as the Arabic page around it reads: the first version
at the right edge, the latest at the left, the size axis on the right. Dates
stay left-to-right inside their labels. The height of each mark is the size
of the change (square-root scale, so one big rewrite does not flatten the
rest). Silent edits are red and
ringed, announced substantive edits blue, cosmetic ones grey. Every text in
the drawing is escaped; numbers are formatted by us.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from html import escape

from markupsafe import Markup

from raqib.present.when import local

WIDTH, HEIGHT = 720, 200
PAD_L, PAD_R, PAD_T, PAD_B = 48, 20, 16, 36
SILENT, ANNOUNCED, COSMETIC = "#cf222e", "#0969da", "#8c959f"


@dataclass
class Mark:
    at: datetime
    chars: int
    kind: str  # cosmetic | substantive
    silent: bool
    label: str  # tooltip
    href: str | None = None


def svg(marks: list[Mark], versions: list[datetime], start: datetime, end: datetime) -> Markup:
    if end <= start:
        end = start.replace(microsecond=0) if start.microsecond else start
        end = datetime.fromtimestamp(start.timestamp() + 3600, tz=start.tzinfo)
    span = (end - start).total_seconds()
    top = max([m.chars for m in marks] + [10])
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

    right = WIDTH - PAD_L  # the size axis, where time starts

    def x(t: datetime) -> float:
        return right - plot_w * max(0.0, min(1.0, (t - start).total_seconds() / span))

    def y(chars: int) -> float:
        return PAD_T + plot_h * (1 - math.sqrt(chars) / math.sqrt(top))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="timeline of versions" direction="ltr" style="max-width:{WIDTH}px;font-family:sans-serif;font-size:11px">',
        f'<line x1="{PAD_R}" y1="{PAD_T + plot_h}" x2="{right}" y2="{PAD_T + plot_h}" stroke="#d0d7de"/>',
        f'<line x1="{right}" y1="{PAD_T}" x2="{right}" y2="{PAD_T + plot_h}" stroke="#d0d7de"/>',
        f'<text x="{right + 6}" y="{PAD_T + 4}" fill="#57606a">{top}</text>',
        f'<text x="{right + 6}" y="{PAD_T + plot_h}" fill="#57606a">0</text>',
        f'<text class="start" x="{right}" y="{HEIGHT - 8}" text-anchor="end" fill="#57606a">{escape(local(start))}</text>',
        f'<text class="end" x="{PAD_R}" y="{HEIGHT - 8}" fill="#57606a">{escape(local(end))}</text>',
        f'<text x="{PAD_R + plot_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" fill="#57606a">الأحرف المعدّلة · characters changed ←</text>',
    ]
    for v in versions:
        vx = x(v)
        parts.append(
            f'<line x1="{vx:.1f}" y1="{PAD_T + plot_h}" x2="{vx:.1f}" y2="{PAD_T + plot_h + 6}" stroke="#57606a"/>'
        )
    for m in marks:
        mx, my = x(m.at), y(m.chars)
        color = COSMETIC if m.kind == "cosmetic" else SILENT if m.silent else ANNOUNCED
        dot = (
            f'<g class="mark {"silent" if m.silent else m.kind}" data-at="{escape(m.at.isoformat())}">'
            f"<title>{escape(m.label)}</title>"
            f'<line x1="{mx:.1f}" y1="{PAD_T + plot_h}" x2="{mx:.1f}" y2="{my:.1f}" stroke="{color}" stroke-width="2"/>'
            f'<circle cx="{mx:.1f}" cy="{my:.1f}" r="5" fill="{color}"/>'
        )
        if m.silent:
            dot += f'<circle cx="{mx:.1f}" cy="{my:.1f}" r="9" fill="none" stroke="{SILENT}" stroke-width="1.5"/>'
        dot += "</g>"
        if m.href:
            dot = f'<a href="{escape(m.href, quote=True)}">{dot}</a>'
        parts.append(dot)
    parts.append("</svg>")
    return Markup("".join(parts))
