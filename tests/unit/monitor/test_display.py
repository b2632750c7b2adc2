"""Readable colours, escaped HTML, shortened values."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from minestrone.monitor import display
from minestrone.monitor.states import ALL_STATES


def luminance(hex_color):
    def channel(value):
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a, b):
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("state", [*ALL_STATES, "CUSTOM"])
def test_every_badge_is_readable(state):
    background, color = display.STATE_COLORS.get(state, display.OTHER_STATE_COLORS)
    assert contrast(background, color) >= 4.5  # WCAG AA for normal text


def test_every_state_has_its_own_colour():
    backgrounds = [display.STATE_COLORS[state][0] for state in ALL_STATES]
    assert len(set(backgrounds)) == len(ALL_STATES)


def test_the_old_yellow_would_fail_the_contrast_test():
    assert contrast("#ffff00", "#ffffff") < 4.5  # the complaint of django-celery-monitor #42


def test_state_badge_escapes():
    assert "&lt;b&gt;" in display.state_badge("<b>")


@pytest.mark.parametrize(
    ("text", "expected"),
    [(None, ""), ("", ""), ("abc", "abc"), ("x" * 60, "x" * 60), ("x" * 61, "x" * 59 + "…")],
)
def test_shorten(text, expected):
    assert display.shorten(text) == expected


def test_natural_time_has_the_exact_time_in_the_current_zone():
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    with timezone.override("Asia/Kolkata"):
        html = display.natural_time(when)
    assert 'title="2024-01-02 08:34:05.000 IST"' in html


@pytest.mark.parametrize(("value", "text"), [(None, ""), (0.0123, "0.012 s"), (12.34, "12.3 s")])
def test_seconds(value, text):
    assert display.seconds(value) == text


def test_monospace_escapes_and_keeps_lines():
    assert display.monospace("a <b>\nc").endswith(">a &lt;b&gt;\nc</pre>")
    assert display.monospace(None) == "—"


def test_exact_times_have_milliseconds_and_the_zone():
    when = datetime(2024, 1, 2, 3, 4, 5, 678900, tzinfo=UTC)
    assert display.exact_time(when) == "2024-01-02 03:04:05.678 UTC"
    with timezone.override("Asia/Kolkata"):
        assert display.exact_time(when) == "2024-01-02 08:34:05.678 IST"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0123, "0.012 s"),
        (5.0, "5.000 s"),
        (75.5, "1 min 15.5 s"),
        (7322, "2 h 2 min"),
        (-1.5, "−1.500 s"),
    ],
)
def test_durations(seconds, text):
    from datetime import timedelta

    start = datetime(2024, 1, 1, tzinfo=UTC)
    assert display.duration(start, start + timedelta(seconds=seconds)) == text
    assert display.duration(None, start) == ""


def test_timestamps_say_how_long_after_the_previous():
    from datetime import timedelta

    sent = datetime(2024, 1, 1, tzinfo=UTC)
    html = display.timestamp(sent + timedelta(seconds=0.25), since=sent)
    assert ">2024-01-01 00:00:00.250 UTC</time>" in html and "(+0.250 s)" in html
    assert display.timestamp(None) == "—"
