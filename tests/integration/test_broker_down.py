"""With the broker stopped, the pages say so with HTTP 503 and never claim a job was queued."""

import pytest

from backing_services.choice import rabbitmq_server
from minestrone.celery_app import app as celery_app
from tests.integration.conftest import point_celery_at

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def own_broker():
    """A RabbitMQ of this module's own, so that stopping it disturbs no other test."""
    previous = celery_app.conf.broker_url
    server = rabbitmq_server()
    with server:
        point_celery_at(server.url)
        yield server
    point_celery_at(previous)


def test_broker_stopped_gives_503_with_a_clear_message_and_no_queued_claim(client, own_broker):
    response = client.post("/", {"job_name": "before", "routing_key_name": "up"})
    assert response.status_code == 302, "the broker should take the job while it runs"

    own_broker.stop()

    response = client.post("/", {"job_name": "after", "routing_key_name": "down"})
    html = response.content.decode()
    assert response.status_code == 503
    assert "cannot be reached" in html
    assert "was <strong>not</strong> queued" in html
    assert "Queued the job “after”" not in html
    assert "Traceback" not in html
    # the form keeps what was typed, so nothing is lost
    assert 'value="after"' in html

    response = client.get("/active/")
    assert response.status_code == 503
    assert "message broker (RabbitMQ) cannot be reached" in response.content.decode()
