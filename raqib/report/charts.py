"""Outlet figures as an SVG bar chart, drawn on the server: per outlet, the
share of its articles edited substantively (blue) and edited silently (red).
Every text in the drawing is escaped; numbers are formatted by us."""

from __future__ import annotations

from html import escape
from typing import Any

from markupsafe import Markup

from raqib.report.timeline import ANNOUNCED, SILENT

WIDTH, ROW, LABEL_W, PAD = 720, 34, 170, 12


def outlet_bars(figures: list[Any]) -> Markup:
    """`figures`: raqib.app.outlets.OutletStats (outlet, articles, share_edited, share_silent)."""
    if not figures:
        return Markup("")
    plot_w = WIDTH - LABEL_W - 2 * PAD - 60
    height = PAD * 2 + ROW * len(figures) + 18
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'role="img" aria-label="share of articles edited, per outlet" direction="ltr" '
        f'style="max-width:{WIDTH}px;font-family:sans-serif;font-size:11px">'
    ]
    for i, f in enumerate(figures):
        y = PAD + i * ROW
        name = f"{f.outlet} ({f.articles:,})"
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y + 14}" text-anchor="end" fill="#1f2328">{escape(name)}</text>'
        )
        for j, (share, color, what) in enumerate(
            ((f.share_edited, ANNOUNCED, "edited"), (f.share_silent, SILENT, "edited silently"))
        ):
            w = plot_w * max(0.0, min(1.0, share))
            by = y + j * 13
            parts.append(
                f"<g><title>{escape(f.outlet)}: {share:.1%} {what}</title>"
                f'<rect x="{LABEL_W}" y="{by + 2}" width="{w:.1f}" height="11" fill="{color}"/>'
                f'<text x="{LABEL_W + w + 4:.1f}" y="{by + 11}" fill="#57606a">{share:.1%}</text></g>'
            )
    ly = PAD + ROW * len(figures) + 10
    parts.append(
        f'<rect x="{LABEL_W}" y="{ly - 8}" width="10" height="10" fill="{ANNOUNCED}"/>'
        f'<text x="{LABEL_W + 14}" y="{ly + 1}" fill="#57606a">edited (substantive)</text>'
        f'<rect x="{LABEL_W + 150}" y="{ly - 8}" width="10" height="10" fill="{SILENT}"/>'
        f'<text x="{LABEL_W + 164}" y="{ly + 1}" fill="#57606a">edited silently</text></svg>'
    )
    return Markup("".join(parts))
