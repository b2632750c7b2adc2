"""How the admin shows states, times and long values: escaped HTML built with format_html."""

from __future__ import annotations

from datetime import datetime

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

from minestrone.monitor import states

# (background, text) per state: the old colours (SUCCESS green, FAILURE red, REVOKED magenta,
# STARTED yellow, RETRY orange, RECEIVED blue) as badges whose text contrasts at least 4.5:1
# (WCAG AA) with their background, readable on the admin's light and dark themes alike.
STATE_COLORS = {
    states.SUCCESS: ("#1a7f37", "#ffffff"),
    states.FAILURE: ("#c21f2b", "#ffffff"),
    states.REVOKED: ("#a0179f", "#ffffff"),
    states.STARTED: ("#f2cc0c", "#1f2328"),
    states.RETRY: ("#b34700", "#ffffff"),
    states.RECEIVED: ("#0550ae", "#ffffff"),
    states.PENDING: ("#57606a", "#ffffff"),
    states.REJECTED: ("#82071e", "#ffffff"),
}
OTHER_STATE_COLORS = ("#424a53", "#ffffff")
SHORT_LENGTH = 60


def state_badge(state: str) -> SafeString:
    """The state as a coloured badge."""
    background, color = STATE_COLORS.get(state, OTHER_STATE_COLORS)
    return format_html(
        '<span class="monitor-state" style="background:{};color:{};padding:1px 6px;'
        'border-radius:3px;font-weight:bold;white-space:nowrap">{}</span>',
        background,
        color,
        state,
    )


def shorten(text: str | None, length: int = SHORT_LENGTH) -> str:
    """The text cut to `length` characters with an ellipsis; the full text is on the detail page."""
    if not text:
        return ""
    return text if len(text) <= length else text[: length - 1] + "…"


def exact_time(when: datetime) -> str:
    """A time in the current time zone, to the millisecond, with the zone's name."""
    local = timezone.localtime(when)
    return f"{date_format(local, 'Y-m-d H:i:s')}.{local.microsecond // 1000:03d} {local:%Z}"


def duration(start: datetime | None, end: datetime | None) -> str:
    """The time from start to end, such as "0.012 s" or "3 min 4.5 s"; "" when unknown."""
    if start is None or end is None:
        return ""
    total = (end - start).total_seconds()
    sign, total = ("−", -total) if total < 0 else ("", total)
    if total < 60:
        return sign + seconds(total)
    minutes, rest = divmod(total, 60)
    if minutes < 60:
        return f"{sign}{int(minutes)} min {rest:.1f} s"
    hours, minutes = divmod(int(minutes), 60)
    return f"{sign}{hours} h {minutes} min"


def timestamp(when: datetime | None, since: datetime | None = None) -> SafeString | str:
    """A time to the millisecond with its zone, and how long after `since` it came."""
    if when is None:
        return "—"
    # a client stamps task-sent after publishing: a worker's event may come "before" it
    after = duration(since, when) if since is not None and when > since else ""
    return format_html(
        '<time datetime="{}">{}</time>{}',
        when.isoformat(),
        exact_time(when),
        format_html(' <span class="monitor-after">(+{})</span>', after) if after else "",
    )


def natural_time(when: datetime | None) -> SafeString | str:
    """ "3 minutes ago", with the exact time in a tooltip."""
    if when is None:
        return ""
    return format_html('<span title="{}">{}</span>', exact_time(when), naturaltime(when))


def seconds(value: float | None) -> str:
    """A duration in seconds, to the millisecond below ten seconds."""
    if value is None:
        return ""
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def monospace(text: str | None) -> SafeString | str:
    """Preformatted text (results, tracebacks)."""
    if not text:
        return "—"
    return format_html(
        '<pre class="monitor-pre" style="white-space:pre-wrap;margin:0;'
        'font-family:monospace">{}</pre>',
        text,
    )


def truncated(text: str | None, css: str = "monitor-trunc") -> SafeString | str:
    """The text on one line, cut by the stylesheet to its column, in full on hover."""
    if not text:
        return ""
    return format_html('<span class="{}" title="{}">{}</span>', css, text, text)


def short_id(task_id: str) -> SafeString:
    """A task id's first 8 characters, in full on hover."""
    return format_html('<span class="monitor-id" title="{}">{}</span>', task_id, task_id[:8] + "…")
