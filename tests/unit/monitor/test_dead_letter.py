"""Reading a dead-lettered message: Celery's headers and JSON body, RabbitMQ's x-death; anything
else read without an error, as not sendable."""

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from minestrone.monitor.dead_letter import parse

DEATH = {
    "count": 1,
    "reason": "delivery_limit",
    "queue": "default.quorum",
    "time": datetime(2026, 12, 7, 1, 22, 3),
    "exchange": "default",
    "routing-keys": ["tasks.poison"],
}


def properties(**headers) -> dict:
    return {"content_type": "application/json", "application_headers": headers}


def test_a_celery_job_over_the_delivery_limit():
    body = json.dumps([["soup", 2], {"hot": True}, {"callbacks": None}]).encode()
    letter = parse(
        body,
        properties(id="t1", task="app.cook", argsrepr="('soup', 2)", kwargsrepr="{'hot': True}",
                   **{"x-death": [DEATH], "x-delivery-count": 4}),
        "tasks.poison",
        5,
    )  # fmt: skip
    assert (letter.task_id, letter.name, letter.args, letter.kwargs) == (
        "t1",
        "app.cook",
        ["soup", 2],
        {"hot": True},
    )
    assert (letter.args_text, letter.kwargs_text) == ("('soup', 2)", "{'hot': True}")
    assert (letter.routing_key, letter.reason, letter.queue) == (
        "tasks.poison",
        "delivery_limit",
        "default.quorum",
    )
    assert letter.deliveries == 6  # once, then 5 more: not the x-delivery-count of a look
    assert letter.dead_lettered_at == datetime(2026, 12, 7, 1, 22, 3, tzinfo=UTC)
    assert letter.can_retry


def test_a_countdown_jobs_routing_key_loses_the_delay_bits():
    key = "0." * 27 + "1.tasks.later"
    letter = parse(b"[[], {}, {}]", properties(id="t", task="a", **{"x-death": [
        {**DEATH, "reason": "rejected", "routing-keys": [key]}]}), key, 5)  # fmt: skip
    # rejected by the task (not over the limit): how often it was delivered is not known
    assert (letter.routing_key, letter.reason) == ("tasks.later", "rejected")
    assert letter.deliveries is None


def test_a_foreign_message_is_shown_but_not_sendable():
    letter = parse(b"\xff not json", {"content_type": "text/plain"}, "other.key", 5)
    assert (letter.task_id, letter.name, letter.args, letter.routing_key) == (
        None,
        None,
        None,
        "other.key",
    )
    assert not letter.can_retry and letter.deliveries is None


@given(
    st.binary(max_size=200) | st.text(max_size=200).map(str.encode),
    st.dictionaries(
        st.sampled_from(["id", "task", "argsrepr", "x-death", "x-delivery-count"]),
        st.none() | st.integers() | st.text(max_size=20) | st.lists(st.integers(), max_size=3)
        | st.lists(st.dictionaries(st.sampled_from(["reason", "routing-keys", "time", "count"]),
                                   st.text(max_size=5) | st.integers()), max_size=2),
    ),
    st.sampled_from([None, "application/json", "text/plain", 7]),
)  # fmt: skip
def test_any_message_is_read_without_an_error(body, headers, content_type):
    letter = parse(body, {"content_type": content_type, "application_headers": headers}, "k", 5)
    assert letter.can_retry in (True, False)
    assert isinstance(letter.routing_key, str)
