"""Environment variables per service type and instance, their precedence, and the files."""

import json
import subprocess

import pytest
import yaml

from platform_sim.appfile import buildfile
from platform_sim.appfile.environment import (
    Endpoint,
    Topology,
    check_variable_name,
    instance_environment,
    layers,
    process_environment,
    render_json,
    render_yaml,
)
from platform_sim.errors import UsageError

TUTORIAL = """
www:
    type: python
    environment: {GREETING: from-build-file, MODE: build}
workers:
    type: python-worker
    instances: 2
    ports: {api: http, feed: tcp}
db:
    type: postgresql
broker:
    type: rabbitmq
"""


@pytest.fixture
def topology():
    return Topology(
        app="soup",
        buildfile=buildfile.parse(TUTORIAL),
        endpoints={
            "db": Endpoint("127.0.0.1", 40001, "root", "s3cret"),
            "broker": Endpoint("127.0.0.1", 40002, "root", "p@ss"),
        },
        http_urls={"www": "http://127.0.0.1:8080/"},
        ports={
            ("www", 0): {"www": 41000},
            ("workers", 0): {"api": 42000, "feed": 42001},
            ("workers", 1): {"api": 43000, "feed": 43001},
        },
        variables={"MODE": "app-variable", "DJANGO_SECRET_KEY": "k"},
    )


def test_common_variables(topology):
    env = instance_environment(topology, "workers", 1)
    assert env["DOTCLOUD_PROJECT"] == "soup"
    assert env["DOTCLOUD_ENVIRONMENT"] == "default"
    assert env["DOTCLOUD_SERVICE_NAME"] == "workers"
    assert env["DOTCLOUD_SERVICE_ID"] == "1"


@pytest.mark.parametrize(("service", "instance"), [("www", 0), ("workers", 0), ("workers", 1)])
def test_every_service_is_described_in_every_instance(topology, service, instance):
    env = instance_environment(topology, service, instance)
    assert env["DOTCLOUD_DB_SQL_HOST"] == "127.0.0.1"
    assert env["DOTCLOUD_DB_SQL_PORT"] == "40001"
    assert env["DOTCLOUD_DB_SQL_LOGIN"] == "root"
    assert env["DOTCLOUD_DB_SQL_PASSWORD"] == "s3cret"
    assert env["DOTCLOUD_DB_SQL_URL"] == "pgsql://root:s3cret@127.0.0.1:40001"
    assert env["DOTCLOUD_BROKER_AMQP_HOST"] == "127.0.0.1"
    assert env["DOTCLOUD_BROKER_AMQP_PORT"] == "40002"
    assert env["DOTCLOUD_BROKER_AMQP_LOGIN"] == "root"
    assert env["DOTCLOUD_BROKER_AMQP_PASSWORD"] == "p@ss"
    assert env["DOTCLOUD_BROKER_AMQP_URL"] == "amqp://root:p%40ss@127.0.0.1:40002"
    assert env["DOTCLOUD_WWW_HTTP_HOST"] == "127.0.0.1:8080"
    assert env["DOTCLOUD_WWW_HTTP_URL"] == "http://127.0.0.1:8080/"
    assert "DOTCLOUD_WORKERS_HTTP_URL" not in env
    for name in ("WWW", "WORKERS", "DB", "BROKER"):
        assert env[f"DOTCLOUD_{name}_SSH_HOST"] == "127.0.0.1"
        assert env[f"DOTCLOUD_{name}_SSH_URL"].startswith("ssh://dotcloud@127.0.0.1:")
    assert env["DOTCLOUD_WORKERS_API_URL"] == "http://127.0.0.1:42000/"
    assert env["DOTCLOUD_WORKERS_FEED_URL"] == "tcp://127.0.0.1:42001"
    assert env["DOTCLOUD_WORKERS_FEED_PORT"] == "42001"


def test_a_login_owning_a_database_names_it(topology):
    assert "DOTCLOUD_DB_SQL_DATABASE" not in instance_environment(topology, "www", 0)
    endpoints = {**topology.endpoints, "db": Endpoint("10.0.0.2", 5432, "app", "pw", "app")}
    owned = Topology(**{**topology.__dict__, "endpoints": endpoints})
    env = instance_environment(owned, "www", 0)
    assert env["DOTCLOUD_DB_SQL_LOGIN"] == "app" and env["DOTCLOUD_DB_SQL_DATABASE"] == "app"
    assert env["DOTCLOUD_DB_SQL_URL"] == "pgsql://app:pw@10.0.0.2:5432"
    assert "DOTCLOUD_BROKER_AMQP_DATABASE" not in env


def test_instance_addresses_are_those_of_instance_0_host(topology):
    hosts = Topology(
        **{
            **topology.__dict__,
            "addresses": {("workers", 0): "198.18.7.3", ("workers", 1): "198.18.7.4"},
        }
    )
    env = instance_environment(hosts, "www", 0)
    assert env["DOTCLOUD_WORKERS_API_URL"] == "http://198.18.7.3:42000/"
    assert env["DOTCLOUD_WORKERS_FEED_HOST"] == "198.18.7.3"
    assert env["DOTCLOUD_WORKERS_SSH_HOST"] == "198.18.7.3"
    assert env["DOTCLOUD_WWW_SSH_HOST"] == "127.0.0.1"  # no address known: loopback


def test_port_variables_are_the_instance_own(topology):
    assert instance_environment(topology, "workers", 1)["PORT_API"] == "43000"
    assert instance_environment(topology, "workers", 0)["PORT_FEED"] == "42001"
    assert instance_environment(topology, "www", 0)["PORT_WWW"] == "41000"
    assert "PORT_API" not in instance_environment(topology, "www", 0)


def test_precedence_layer_by_layer(topology):
    chain = layers(topology, "www", 0)
    platform, application, build, _defaults = chain.maps
    assert build["MODE"] == "build" and application["MODE"] == "app-variable"
    assert "DOTCLOUD_PROJECT" in platform
    env = instance_environment(topology, "www", 0)
    assert env["MODE"] == "app-variable"  # application variables override environment:
    assert env["GREETING"] == "from-build-file"  # build file still fills the rest
    assert env["DJANGO_SECRET_KEY"] == "k"
    assert "GREETING" not in instance_environment(topology, "workers", 0)  # per service


def test_the_platform_says_how_many_proxies_add_to_x_forwarded_for(topology):
    # the front router, then the instance's nginx
    assert instance_environment(topology, "www", 0)["TRUSTED_PROXIES"] == "2"
    assert instance_environment(topology, "workers", 1)["TRUSTED_PROXIES"] == "2"
    one_hop = Topology(**{**topology.__dict__, "trusted_proxies": 1})
    assert instance_environment(one_hop, "www", 0)["TRUSTED_PROXIES"] == "1"
    # a TLS front end before the router: the application raises it itself
    extra = Topology(**{**topology.__dict__, "variables": {"TRUSTED_PROXIES": "3"}})
    assert instance_environment(extra, "www", 0)["TRUSTED_PROXIES"] == "3"


def test_application_variables_cannot_override_the_platform(topology):
    sneaky = Topology(**{**topology.__dict__, "variables": {"DOTCLOUD_PROJECT": "other"}})
    assert instance_environment(sneaky, "www", 0)["DOTCLOUD_PROJECT"] == "soup"


@pytest.mark.parametrize("name", ["DOTCLOUD_X", "dotcloud_x", "1ABC", "A-B", "", "FOO\n"])
def test_invalid_variable_names(name):
    with pytest.raises(UsageError):
        check_variable_name(name)


def test_valid_variable_name():
    check_variable_name("DJANGO_SECRET_KEY")


def test_json_is_indented_one_key_per_line(topology):
    env = instance_environment(topology, "workers", 0)
    text = render_json(env)
    assert json.loads(text) == env
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    assert len(lines) == len(env) + 2
    assert '    "DOTCLOUD_SERVICE_NAME": "workers",' in lines


def test_tutorial_sed_helper_reads_the_json(tmp_path, topology):
    (tmp_path / "environment.json").write_text(
        render_json(instance_environment(topology, "workers", 1))
    )
    helper = 'sed -n "/$1/ s/.*: \\"\\(.*\\)\\".*/\\1/p" < "$HOME/environment.json"'
    for key, expected in [
        ("DOTCLOUD_SERVICE_NAME", "workers"),
        ("DOTCLOUD_SERVICE_ID", "1"),
        ("DOTCLOUD_DB_SQL_PASSWORD", "s3cret"),
    ]:
        result = subprocess.run(
            ["sh", "-c", helper, "sh", key],
            env={"HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout.strip() == expected


def test_yaml_holds_the_same_strings(topology):
    env = instance_environment(topology, "www", 0)
    assert yaml.safe_load(render_yaml(env)) == env


def test_process_environment_puts_the_virtualenv_first():
    env = process_environment({"A": "1"}, home="/home/dotcloud")
    assert env["PATH"].split(":")[0] == "/home/dotcloud/env/bin"
    assert env["HOME"] == "/home/dotcloud" and env["A"] == "1"
