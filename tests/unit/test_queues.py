"""The queues per kind of broker: a quorum queue with a delivery limit and at-least-once dead
lettering on RabbitMQ, the tutorial's plain queue elsewhere; the limit read from the environment."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from minestrone import platform_env, queues
from tests.unit.test_platform_env import CLOUDAMQP, DB, SECRET, load, write


def test_rabbitmq_gets_a_quorum_queue_with_the_tutorials_routing():
    [queue] = queues.task_queues("amqp://u:p@h:5672/v", 7)
    assert (queue.name, queue.exchange.name, queue.exchange.type, queue.routing_key) == (
        "default.quorum",
        "default",
        "topic",
        "tasks.#",
    )
    assert queue.durable and queue.queue_arguments == {
        "x-queue-type": "quorum",
        "x-delivery-limit": 7,
        "x-dead-letter-exchange": "default.dead-letters",
        # at-least-once dead lettering is refused by RabbitMQ without reject-publish
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


@pytest.mark.parametrize("url", ["redis://:p@h:6379/0", "memory://"])
def test_other_brokers_keep_the_tutorials_plain_queue(url):
    [queue] = queues.task_queues(url, 7)
    assert (queue.name, queue.routing_key, queue.queue_arguments) == ("default", "tasks.#", None)
    assert queues.default_queue_name(url) == "default"


def test_the_dead_letter_queue_is_a_quorum_queue_behind_a_fanout_exchange():
    queue = queues.dead_letter_queue()
    assert (queue.name, queue.exchange.name, queue.exchange.type) == (
        queues.DEAD_LETTERS,
        queues.DEAD_LETTERS,
        "fanout",
    )
    assert queue.queue_arguments == {"x-queue-type": "quorum"}  # no limit: kept until handled


@pytest.mark.parametrize(("text", "limit"), [(None, 5), ("", 5), (" 3 ", 3), ("1", 1)])
def test_the_delivery_limit_defaults_to_five(text, limit):
    assert queues.parse_delivery_limit(text) == limit


@pytest.mark.parametrize("text", ["0", "-1", "2.5", "five", "1001", "٣", "1e3"])
def test_a_bad_delivery_limit_is_one_line_naming_the_variable(text):
    with pytest.raises(ImproperlyConfigured) as raised:
        queues.parse_delivery_limit(text)
    message = str(raised.value)
    assert message.startswith("MINESTRONE_DELIVERY_LIMIT=") and "\n" not in message
    assert "from 1 to 1000" in message


@given(st.text(max_size=60))
def test_any_text_is_a_limit_from_1_to_1000_or_one_clear_line(text):
    try:
        limit = queues.parse_delivery_limit(text)
    except ImproperlyConfigured as exc:
        assert "\n" not in str(exc) and str(exc).startswith("MINESTRONE_DELIVERY_LIMIT=")
    else:
        assert 1 <= limit <= 1000


def test_the_limit_comes_from_the_environment_file_or_the_process(tmp_path):
    base = DB | CLOUDAMQP | SECRET
    assert load(write(tmp_path, base | {"MINESTRONE_DELIVERY_LIMIT": "9"})).delivery_limit == 9
    assert load(write(tmp_path, base), MINESTRONE_DELIVERY_LIMIT="2").delivery_limit == 2
    assert load(write(tmp_path, base)).delivery_limit == 5
    dev = platform_env.development_settings(tmp_path, {"MINESTRONE_DELIVERY_LIMIT": "4"})
    assert dev.delivery_limit == 4


def test_migrate_queues_has_nothing_to_do_off_rabbitmq():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("migrate_queues", stdout=out)
    assert out.getvalue().strip() == "queues: nothing to do on a memory broker"
