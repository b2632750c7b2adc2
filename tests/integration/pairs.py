"""The pairs of database and broker the tutorial's story runs on beyond the repository's own
(postgresql+rabbitmq, whose stories are test_tutorial_story's and test_compose_story's): the
kinds each data service of dotcloud.yml is rewritten to, by a short name."""

from __future__ import annotations

from collections.abc import Callable

OTHER_PAIRS = {
    "mysql-redis": {"db": "mysql", "broker": "redis"},
    "postgresql-redis": {"db": "postgresql", "broker": "redis"},
    "mysql-rabbitmq": {"db": "mysql", "broker": "rabbitmq"},
}


def classes_per_pair(base: type, app_name: Callable[[str], str]) -> dict[str, type]:
    """One test class per pair (``TestMysqlRedis``…): ``base`` with ``KINDS`` the pair's and
    ``APP`` its app's name; a test module puts them in its namespace for pytest to collect."""
    made = {}
    for pair, kinds in OTHER_PAIRS.items():
        name = "Test" + pair.title().replace("-", "")
        attributes = {"APP": app_name(pair), "KINDS": kinds, "__module__": base.__module__}
        made[name] = type(name, (base,), attributes)
    return made
