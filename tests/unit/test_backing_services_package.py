"""The backing_services package: its public names, each module imported only when used."""

import subprocess
import sys
from pathlib import Path

import pytest

import backing_services

REPO = Path(__file__).resolve().parents[2]


def test_the_package_imports_a_provider_only_when_it_is_used():
    """platform_sim's CLI and hosts import the errors: not the engine's nor Redis' client."""
    code = (
        "import sys, backing_services.errors, backing_services as b\n"
        "heavy = {'backing_services.containers', 'backing_services.choice', 'redis', 'docker'}\n"
        "assert not heavy & set(sys.modules), heavy & set(sys.modules)\n"
        "b.rabbitmq_server\n"
        "assert 'backing_services.choice' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr


def test_every_public_name_resolves_and_an_unknown_one_is_an_attribute_error():
    for name in backing_services.__all__:
        assert getattr(backing_services, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        backing_services.nope  # noqa: B018 - the attribute access is the test
