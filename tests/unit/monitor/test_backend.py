"""The result backend that stores nothing answers a revoke's state query without a warning."""

import logging

from celery import states

from minestrone.celery_app import app
from minestrone.monitor.backend import NoResultBackend


def test_the_project_uses_it():
    assert isinstance(app.backend, NoResultBackend)


def test_a_state_query_answers_pending_and_storing_is_a_no_op(caplog):
    backend = NoResultBackend(app=app)
    with caplog.at_level(logging.WARNING):
        assert backend.get_state("t1") == states.PENDING
        backend.mark_as_revoked("t1", reason="revoked")
    assert caplog.records == []


def _worker_revoke(celery_app, caplog) -> str:
    from types import SimpleNamespace

    from celery.worker import control, state

    fake = SimpleNamespace(app=celery_app, consumer=SimpleNamespace(pool=None))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="celery.worker.control"):
        assert control._revoke(fake, {"t-unit-1"}) == {"t-unit-1"}
    state.revoked.discard("t-unit-1")
    return caplog.text


def test_a_worker_revoke_does_not_warn_about_a_missing_backend(caplog):
    from celery import Celery

    assert "No result backend" in _worker_revoke(Celery("plain", set_as_current=False), caplog)
    assert "No result backend" not in _worker_revoke(app, caplog)
