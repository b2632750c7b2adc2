"""Charts drawn on the server as inline SVG (no script, no CDN): stacked bars per period.

Every SVG states its own size (``width`` and ``height``), which the stylesheet refines: without
those, a browser draws an SVG as wide as its box and as tall as its view box's proportions make
it (a legend's square swatch as high as the page is wide). Words are HTML beside the drawing,
never SVG text, which the chart's free aspect ratio would stretch.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

PALETTE = ("#417690", "#1a7f37", "#c21f2b", "#b34700", "#a0179f", "#0550ae", "#57606a", "#9a6700")
WIDTH, HEIGHT, AXIS = 600, 160, 24
SWATCH = 10  # px: a legend's colour square when no stylesheet sizes it


def stacked_bars(
    series: dict[str, list[int]],
    periods: list[datetime],
    colors: dict[str, str] | None = None,
    label: str = "",
) -> SafeString:
    """A stacked bar chart of the series (one bar per period), with its legend; scales to its
    container's width."""
    colors = colors or {}
    keys = list(series)
    color = {key: colors.get(key, PALETTE[n % len(PALETTE)]) for n, key in enumerate(keys)}
    totals = [sum(values[i] for values in series.values()) for i in range(len(periods))]
    peak = max(totals, default=0) or 1
    slot = WIDTH / max(len(periods), 1)
    rects = []
    for i, period in enumerate(periods):
        y = HEIGHT
        for key in keys:
            n = series[key][i]
            if not n:
                continue
            h = n / peak * HEIGHT
            y -= h
            rects.append(
                (
                    f"{i * slot + 0.5:.1f}",
                    f"{y:.1f}",
                    f"{max(slot - 1, 0.5):.1f}",
                    f"{h:.1f}",
                    color[key],
                    f"{key}: {n} at {period:%H:%M}",
                )
            )
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
        rects,
    )
    empty = ""
    if not rects:
        empty = format_html(
            '<p class="empty">{}</p>',
            "nothing in this window" if not series else "all zero in this window",
        )
    first = periods[0].strftime("%H:%M") if periods else ""
    last = periods[-1].strftime("%H:%M") if periods else ""
    legend = format_html_join(
        "",
        '<li><svg class="swatch" width="{}" height="{}" viewBox="0 0 1 1" aria-hidden="true">'
        '<rect width="1" height="1" fill="{}"/></svg>{} <b>{}</b></li>',
        ((SWATCH, SWATCH, color[key], key, sum(series[key])) for key in keys),
    )
    return format_html(
        '<figure class="chart"><div class="plot"><svg class="bars" width="100%" height="{h}" '
        'viewBox="0 0 {w} {h}" preserveAspectRatio="none" role="img" aria-label="{label}" '
        'data-bars="{count}">{bars}'
        '<line x1="0" y1="{base}" x2="{w}" y2="{base}" class="axis"/></svg>{empty}</div>'
        '<div class="chart-axis"><span>{first}</span><span>peak {peak} per period</span>'
        '<span>{last}</span></div><ul class="legend">{legend}</ul></figure>',
        w=WIDTH,
        h=HEIGHT + 1,
        base=HEIGHT + 0.5,
        label=label,
        count=len(rects),
        bars=bars,
        empty=empty,
        first=first,
        last=last,
        peak=max(totals, default=0),
        legend=legend,
    )
