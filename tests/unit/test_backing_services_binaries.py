"""Finding initdb/pg_ctl/postgres, rabbitmq-server/rabbitmqctl and epmd; the places tried."""

import os

import pytest

from backing_services.binaries import (
    epmd_path,
    mariadb_programs,
    newest_first,
    postgres_bin_dir,
    rabbitmq_bin_dir,
    redis_server_path,
)
from backing_services.errors import ServiceUnavailable


def tools(directory, *names):
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = directory / name
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    return directory


PG = ("initdb", "pg_ctl", "postgres")


def test_newest_version_directory_first(tmp_path):
    for version in ("9.6", "15", "16", "10"):
        (tmp_path / version / "bin").mkdir(parents=True)
    found = [path.parent.name for path in newest_first(str(tmp_path / "*" / "bin"))]
    assert found == ["16", "15", "10", "9.6"]


def test_path_comes_before_the_version_directories(tmp_path):
    on_path = tools(tmp_path / "usr-local-bin", *PG)
    tools(tmp_path / "lib" / "16" / "bin", *PG)
    assert postgres_bin_dir(str(on_path), str(tmp_path / "lib" / "*" / "bin")) == on_path


def test_a_directory_missing_one_tool_is_passed_over(tmp_path):
    partial = tools(tmp_path / "partial", "pg_ctl", "postgres")
    tools(tmp_path / "lib" / "15" / "bin", *PG)
    found = postgres_bin_dir(str(partial), str(tmp_path / "lib" / "*" / "bin"))
    assert found == tmp_path / "lib" / "15" / "bin"


def test_nothing_found_lists_every_place_tried_in_order(tmp_path):
    (tmp_path / "lib" / "14" / "bin").mkdir(parents=True)
    (tmp_path / "lib" / "15" / "bin").mkdir(parents=True)
    path_env = os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")])
    with pytest.raises(ServiceUnavailable) as caught:
        postgres_bin_dir(path_env, str(tmp_path / "lib" / "*" / "bin"))
    message = str(caught.value)
    tried = [str(tmp_path / name) for name in ("a", "b", "lib/15/bin", "lib/14/bin")]
    positions = [message.index(place) for place in tried]
    assert positions == sorted(positions)
    assert "initdb, pg_ctl, postgres" in message
    assert "apt-get install postgresql rabbitmq-server" in message


def test_rabbitmq_skips_the_debian_wrapper_on_path(tmp_path):
    lib = tools(tmp_path / "lib-rabbitmq-bin", "rabbitmq-script-wrapper")
    sbin = tmp_path / "sbin"
    sbin.mkdir()
    for name in ("rabbitmq-server", "rabbitmqctl"):
        (sbin / name).symlink_to(lib / "rabbitmq-script-wrapper")
    with pytest.raises(ServiceUnavailable, match="rabbitmq-server, rabbitmqctl"):
        rabbitmq_bin_dir(str(sbin), fixed=(), pattern=str(tmp_path / "none-*"))
    real = tools(tmp_path / "real", "rabbitmq-server", "rabbitmqctl")
    assert rabbitmq_bin_dir(str(sbin), fixed=(str(real),), pattern=str(tmp_path / "x*")) == real


def test_rabbitmq_prefers_the_real_scripts_over_path(tmp_path):
    fixed = tools(tmp_path / "usr-lib-rabbitmq-bin", "rabbitmq-server", "rabbitmqctl")
    on_path = tools(tmp_path / "path", "rabbitmq-server", "rabbitmqctl")
    found = rabbitmq_bin_dir(str(on_path), fixed=(str(fixed),), pattern=str(tmp_path / "x*"))
    assert found == fixed


def test_epmd_from_the_newest_erts(tmp_path):
    tools(tmp_path / "erts-12.3" / "bin", "epmd")
    tools(tmp_path / "erts-13.1.5" / "bin", "epmd")
    found = epmd_path(str(tmp_path / "empty"), str(tmp_path / "erts-*" / "bin"))
    assert found == tmp_path / "erts-13.1.5" / "bin" / "epmd"


def test_redis_server_from_path_first(tmp_path):
    on_path = tools(tmp_path / "path", "redis-server")
    fixed = tools(tmp_path / "usr-bin", "redis-server")
    assert redis_server_path(str(on_path), fixed=(str(fixed),)) == on_path / "redis-server"
    assert redis_server_path("", fixed=(str(fixed),)) == fixed / "redis-server"


def test_mariadb_under_its_new_names_or_its_old_ones(tmp_path):
    old = tools(tmp_path / "old", "mysqld", "mysql_install_db")
    assert mariadb_programs("", fixed=(str(old),)) == (old / "mysqld", old / "mysql_install_db")
    new = tools(tmp_path / "new", "mariadbd", "mariadb-install-db")
    found = mariadb_programs(str(new), fixed=(str(old),))
    assert found == (new / "mariadbd", new / "mariadb-install-db")


def test_missing_mariadb_names_both_programs_and_every_place(tmp_path):
    tools(tmp_path / "sbin", "mariadbd")
    with pytest.raises(ServiceUnavailable) as caught:
        mariadb_programs(str(tmp_path / "path"), fixed=(str(tmp_path / "sbin"),))
    message = str(caught.value)
    assert "none of mariadb-install-db, mysql_install_db" in message
    assert str(tmp_path / "path") in message and str(tmp_path / "sbin") in message
    assert "mariadb-server" in message
