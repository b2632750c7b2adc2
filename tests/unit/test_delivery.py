"""The broker's transport options per kind: confirms on RabbitMQ, a visibility timeout on Redis
kept above the longest job."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from minestrone import delivery


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("amqp://u:p@h:5672/%2F", "rabbitmq"),
        ("pyamqp://h//", "rabbitmq"),
        ("redis://:p@h:6379/0", "redis"),
        ("rediss://:p@h:6380/0", "redis"),
        ("memory://", "memory"),
    ],
)
def test_the_kind_comes_from_the_scheme(url, kind):
    assert delivery.broker_kind(url) == kind


def test_rabbitmq_confirms_each_publish():
    assert delivery.transport_options("amqp://h//", 5) == {"confirm_publish": True}


def test_redis_keeps_a_taken_job_longer_than_the_longest_job_runs():
    options = delivery.transport_options("redis://:p@h:6379/0", 5)
    assert options["visibility_timeout"] == delivery.VISIBILITY_TIMEOUT_SECONDS
    assert options["visibility_timeout"] > delivery.longest_wait(5)
    assert options["fanout_prefix"] and options["fanout_patterns"]


def test_a_job_as_long_as_the_visibility_timeout_is_refused_on_redis_only():
    too_long = delivery.VISIBILITY_TIMEOUT_SECONDS - delivery.MARGIN_SECONDS
    with pytest.raises(ImproperlyConfigured, match=r"SOUP_LAZY_JOB_SECONDS=540 .* under 540 s"):
        delivery.transport_options("redis://:p@h:6379/0", too_long)
    assert delivery.transport_options("amqp://h//", too_long) == {"confirm_publish": True}


def test_other_transports_get_no_options():
    assert delivery.transport_options("memory://", 0) == {}
