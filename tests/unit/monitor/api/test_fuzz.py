"""Any parameters give an answer or a 400 naming one of them: never a 500 (property tests)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minestrone.monitor.api.read_views import TASK_FILTERS
from minestrone.monitor.api.tokens import ApiToken
from tests.unit.monitor.api.conftest import Api, make_user
from tests.unit.monitor.test_admin import add_task, add_worker

pytestmark = pytest.mark.django_db
FUZZ = settings(
    max_examples=150,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
NUMBERISH = st.one_of(
    TEXT,
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["2026-01-01 10:00", "2026-13-01T00:00", "1e400", "-0", "FAILURE", ""]),
)
NAMES = st.sampled_from([*TASK_FILTERS, "sort_by", "x"])


@pytest.fixture
def caller(db):
    _, token = ApiToken.objects.issue(make_user())
    add_task("t-1", "FAILURE", name="app.add", args="(1,)", worker="w1@host")
    add_worker("w1@host")
    return Api(token)


def _answered(response, sent: set) -> None:
    assert response.status_code in (200, 400, 404, 409, 503), response.content[:300]
    body = response.json()
    if response.status_code == 400:
        assert body["error"].startswith(f"{body['parameter']}: ")
        # the parameter at fault is one sent, or the body, or one that is required and missing
        missing = body["error"] == f"{body['parameter']}: required"
        assert body["parameter"] in sent | {"body"} or missing, body


@FUZZ
@given(params=st.dictionaries(NAMES, NUMBERISH, max_size=5))
def test_tasks_never_fail(caller, params):
    _answered(caller.get("/api/tasks", params), set(params))


ACTIONS = [
    "task/revoke/t-1",
    "task/rate-limit/app.add",
    "task/timeout/app.add",
    "worker/pool/grow/w1@host",
    "worker/pool/autoscale/w1@host",
    "worker/queue/add-consumer/w1@host",
    "task/async-apply/app.nope",
]
VALUES = st.one_of(NUMBERISH, st.booleans(), st.none(), st.lists(st.integers(), max_size=2))
ACTION_PARAMS = st.sampled_from(
    ["terminate", "signal", "ratelimit", "soft", "hard", "n", "min", "max", "queue", "args"]
)


@FUZZ
@given(
    path=st.sampled_from(ACTIONS),
    body=st.dictionaries(ACTION_PARAMS, VALUES, max_size=4),
    as_json=st.booleans(),
)
def test_actions_never_fail(caller, control, path, body, as_json):
    if as_json:
        response = caller.post(f"/api/{path}", json.dumps(body), content_type="application/json")
    else:
        form = {k: "" if v is None else str(v) for k, v in body.items()}
        response = caller.post(f"/api/{path}", form)
    _answered(response, set(body))


@FUZZ
@given(raw=st.binary(max_size=60))
def test_any_json_body_is_answered(caller, control, raw):
    response = caller.post("/api/task/rate-limit/app.add", raw, content_type="application/json")
    _answered(response, set())
