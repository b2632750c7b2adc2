"""The Redis and MariaDB image recipes, read as text: same settings as the local servers,
a real readiness check, the servers as their own accounts, no password on a command line."""

import re
from pathlib import Path

import pytest

from backing_services.images import KINDS, render_recipe
from backing_services.mariadb_config import Layout, render_options
from backing_services.redis_config import render_config

PATHS_AND_ADDRESSES = ("bind", "port", "dir", "user", "appendfsync")
MARIADB_PLACES = ("datadir", "tmpdir", "socket", "pid-file", "port", "bind-address")


def test_every_kind_has_a_recipe():
    assert set(KINDS) >= {"postgresql", "rabbitmq", "redis", "mariadb"}


@pytest.mark.parametrize("kind", ["redis", "mariadb"])
def test_a_recipe_from_the_base_with_a_healthcheck(kind):
    files = render_recipe(kind, "localhost/base:1")
    containerfile = files["Containerfile"]
    assert containerfile.startswith("#")
    assert "FROM localhost/base:1" in containerfile
    assert "HEALTHCHECK" in containerfile
    assert "policy-rc.d" in containerfile  # the package installs without starting anything
    assert re.search(r"exec setpriv --reuid=(redis|mysql) ", files["entrypoint"])


def test_the_redis_image_writes_the_local_servers_settings():
    script = render_recipe("redis", "b")["entrypoint"]
    written = script.split("<< CONF\n", 1)[1].split("CONF\n", 1)[0].splitlines()
    local = render_config(Path("/srv"), 6379, "pw").splitlines()
    assert [line for line in written if line.split()[0] not in PATHS_AND_ADDRESSES] == [
        line for line in local if line.split()[0] not in PATHS_AND_ADDRESSES
    ]
    assert "user default on #$hash ~* &* +@all" in written
    assert ': "${REDIS_APPENDFSYNC:=always}"' in script


def test_the_redis_image_checks_readiness_with_the_password_out_of_sight():
    check = render_recipe("redis", "b")["healthcheck"]
    assert "REDISCLI_AUTH=" in check and " ping" in check and "PONG" in check
    assert " -a " not in check


def test_the_mariadb_image_has_the_local_servers_settings_and_syncs_commits():
    files = render_recipe("mariadb", "b")
    image = [line for line in files["my.cnf"].splitlines() if line and not line.startswith("#")]
    local = render_options(Layout(Path("/srv"), Path("/srv")), 3306, fsync=True).splitlines()

    def settings(lines):
        return [line for line in lines if line.split("=")[0] not in MARIADB_PLACES]

    assert settings(image) == settings(local)
    assert "innodb_flush_log_at_trx_commit=1" in image


def test_the_mariadb_image_gives_root_the_socket_only_and_checks_the_app_account():
    files = render_recipe("mariadb", "b")
    assert "--auth-root-authentication-method=socket" in files["entrypoint"]
    assert "--skip-networking" in files["entrypoint"]  # the setup server: socket only
    check = files["healthcheck"]
    assert 'MYSQL_PWD="$MARIADB_PASSWORD"' in check and "SELECT 1" in check
    assert "-p" not in check.split()
    account = files["app-account"]
    assert "IDENTIFIED BY %s" in account  # the password as a parameter, never in the text
