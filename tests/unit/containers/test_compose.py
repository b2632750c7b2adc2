"""export compose: the file checked against the Compose specification's schema, offline."""

import json
import os
import stat
from pathlib import Path

import jsonschema
import pytest
import yaml

from platform_sim.appfile.buildfile import parse
from platform_sim.cli import main
from platform_sim.containers.export.base import write_files
from platform_sim.containers.export.compose import output_files, render

SCHEMA = json.loads((Path(__file__).parent / "data" / "compose-spec.json").read_text())
BUILD_FILE = """\
www:
  type: python
  environment:
    SOUP_LAZY_JOB_SECONDS: "5"
workers:
  type: python-worker
  instances: 2
db:
  type: postgresql
broker:
  type: rabbitmq
"""
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
PASSWORDS = {"db": "db-pass-123", "broker": "broker-pass-456"}
APP_PASSWORDS = {"db": "db-app-789"}
VARIABLES = {"DJANGO_SECRET_KEY": "the-secret-key", "MINESTRONE_ADMIN_PASSWORD": "admin pw$"}


def exported(scale=None, port=8080, as_account=True):
    return render(
        "soup",
        parse(BUILD_FILE),
        "rev1",
        variables=VARIABLES,
        passwords=PASSWORDS,
        app_passwords=APP_PASSWORDS,
        scale=scale or {},
        port=port,
        as_account=as_account,
    )


def write(folder, export):
    return write_files(folder, output_files(export))


def test_the_compose_file_is_valid_against_the_compose_specification():
    VALIDATOR.validate(exported().compose)


def test_the_schema_is_not_a_pushover():
    broken = exported().compose
    broken["services"]["www"]["depends_on"]["db"]["condition"] = "service_happy"
    with pytest.raises(jsonschema.ValidationError, match="service_happy"):
        VALIDATOR.validate(broken)
    with pytest.raises(jsonschema.ValidationError, match="imagez"):
        VALIDATOR.validate({"services": {"www": {"imagez": "x"}}})


def test_one_service_per_service_of_the_build_file_with_its_image():
    services = exported().compose["services"]
    assert list(services) == ["db", "broker", "www", "workers"]
    assert services["www"]["image"] == "localhost/soup-www:rev1"
    assert services["db"]["image"] == "localhost/soup-db:rev1"


def test_replicas_come_from_instances_or_from_scale():
    assert exported().compose["services"]["workers"]["deploy"]["replicas"] == 2
    scaled = exported(scale={"workers": 3, "www": 1}).compose["services"]
    assert scaled["workers"]["deploy"]["replicas"] == 3


def test_code_services_wait_for_healthy_data_services_which_check_readiness_for_real():
    services = exported().compose["services"]
    assert services["workers"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "broker": {"condition": "service_healthy"},
    }
    assert "SELECT 1" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["broker"]["healthcheck"]["test"] == ["CMD", "/usr/local/bin/healthcheck"]
    assert services["db"]["volumes"][0] == "db-data:/var/lib/postgresql/data"
    assert services["broker"]["volumes"][0] == "broker-data:/var/lib/rabbitmq"


def test_the_web_service_is_published_on_loopback_only():
    services = exported(port=18080).compose["services"]
    assert services["www"]["ports"] == ["127.0.0.1:18080:8080"]
    assert "ports" not in services["workers"]
    assert services["www"]["environment"]["DOTCLOUD_WWW_HTTP_URL"] == "http://127.0.0.1:18080/"


def test_every_instance_gets_the_platforms_environment_and_no_secret_inline():
    result = exported()
    www = result.compose["services"]["www"]
    inline = www["environment"]
    assert inline["DOTCLOUD_SERVICE_NAME"] == "www"
    assert inline["DOTCLOUD_DB_SQL_HOST"] == "db"
    assert inline["SOUP_LAZY_JOB_SECONDS"] == "5"
    text = yaml.safe_dump(result.compose)
    for secret in [*PASSWORDS.values(), *APP_PASSWORDS.values(), *VARIABLES.values()]:
        assert secret not in text
    environment = json.loads(result.secret_files["www.environment.json"])
    assert environment["DOTCLOUD_DB_SQL_PASSWORD"] == "db-app-789"
    assert environment["DJANGO_SECRET_KEY"] == "the-secret-key"
    assert environment["DOTCLOUD_SERVICE_NAME"] == "www"
    assert environment["TRUSTED_PROXIES"] == "1"  # clients reach the container's nginx directly
    assert "broker-pass-456" in environment["DOTCLOUD_BROKER_AMQP_URL"]
    assert result.secret_files["db.password"] == "db-pass-123"
    assert result.secret_files["broker.password"] == "broker-pass-456"
    assert "./www.environment.json:/run/secrets/environment.json:ro" in www["volumes"]


def test_the_app_logs_in_as_its_own_role_and_never_gets_the_superusers_password():
    result = exported()
    for service in ("www", "workers"):
        text = result.secret_files[f"{service}.environment.json"]
        environment = json.loads(text)
        assert environment["DOTCLOUD_DB_SQL_LOGIN"] == "app"
        assert environment["DOTCLOUD_DB_SQL_PASSWORD"] == "db-app-789"
        assert environment["DOTCLOUD_DB_SQL_DATABASE"] == "app"
        assert "db-app-789@db:5432" in environment["DOTCLOUD_DB_SQL_URL"]
        assert "db-pass-123" not in text
    db = result.compose["services"]["db"]
    assert db["environment"]["POSTGRES_USER"] == "root"  # the superuser makes the role only
    assert db["environment"]["POSTGRES_APP_USER"] == "app"
    assert db["environment"]["POSTGRES_APP_DB"] == "app"
    assert db["environment"]["POSTGRES_APP_PASSWORD_FILE"] == "/run/secrets/db.app-password"
    assert "./db.app-password:/run/secrets/db.app-password:ro" in db["volumes"]
    assert result.secret_files["db.app-password"] == "db-app-789"
    for service in ("www", "workers"):
        mounts = " ".join(result.compose["services"][service]["volumes"])
        assert "db.password" not in mounts and "app-password" not in mounts


def test_no_secret_can_reach_a_command_line():
    """podman-compose passes environment and env_file values as ``podman create -e``."""
    compose = exported().compose
    for name, service in compose["services"].items():
        assert "env_file" not in service, name
        assert "secrets" not in service, name
    db = compose["services"]["db"]
    assert db["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/db.password"
    assert "./db.password:/run/secrets/db.password:ro" in db["volumes"]
    broker = compose["services"]["broker"]["environment"]
    assert broker["RABBITMQ_DEFAULT_PASS_FILE"] == "/run/secrets/broker.password"


def test_secret_files_are_owner_only(tmp_path):
    written = write(tmp_path, exported())
    assert {path.name for path in written} == {
        "compose.yaml", "www.environment.json", "workers.environment.json",
        "db.password", "db.app-password", "broker.password",
    }
    for path in written[:-1]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # the code services' files are their account's (they start as it), the others the user's
    owners = {path.name: path.stat().st_uid for path in written[:-1]}
    assert owners.pop("www.environment.json") == owners.pop("workers.environment.json") == 10001
    assert set(owners.values()) == {os.geteuid()}
    stored = json.loads((tmp_path / "www.environment.json").read_text())
    assert stored["MINESTRONE_ADMIN_PASSWORD"] == "admin pw$"
    assert yaml.safe_load((tmp_path / "compose.yaml").read_text()) == exported().compose


def run(argv, tmp_path):
    out, err = __import__("io").StringIO(), __import__("io").StringIO()
    status = main.main(argv, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("PLATFORM_SIM_HOME", str(tmp_path / "home"))
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "dotcloud.yml").write_text(BUILD_FILE)
    return folder


def test_a_non_empty_folder_is_refused_without_force_and_passwords_are_kept(app, tmp_path):
    target = tmp_path / "deploy"
    argv = ["-A", "soup", "export", "compose", str(app), "-o", str(target)]
    status, out, _ = run(argv, tmp_path)
    assert status == 0 and "wrote" in out
    password = (target / "db.password").read_text()
    app_password = (target / "db.app-password").read_text()
    status, _, err = run(argv, tmp_path)
    assert status == 2
    assert "the folder is not empty; choose an empty one or pass --force" in err
    assert run([*argv, "--force"], tmp_path)[0] == 0
    assert (target / "db.password").read_text() == password
    assert (target / "db.app-password").read_text() == app_password != password


def test_an_unsupported_type_is_refused_before_anything_is_written(app, tmp_path):
    (app / "dotcloud.yml").write_text(BUILD_FILE + "cache:\n  type: redis\n")
    status, _, err = run(["-A", "soup", "export", "compose", str(app), "-o", str(tmp_path / "d")],
                         tmp_path)
    assert status == 3
    assert 'Service "cache" has type "redis"' in err
    assert not (tmp_path / "d").exists()


def test_env_set_variables_reach_the_export(app, tmp_path):
    assert run(["-A", "soup", "env", "set", "DJANGO_SECRET_KEY=from-env-set"], tmp_path)[0] == 0
    target = tmp_path / "deploy"
    assert run(["-A", "soup", "export", "compose", str(app), "-o", str(target)], tmp_path)[0] == 0
    stored = json.loads((target / "www.environment.json").read_text())
    assert stored["DJANGO_SECRET_KEY"] == "from-env-set"


def test_code_containers_get_the_same_time_to_stop_in_compose_and_on_kubernetes():
    from platform_sim.containers import facts
    from platform_sim.containers.export.kubernetes.manifests import KubernetesRequest, build_objects

    services = exported().compose["services"]
    objects = build_objects(
        "soup", parse(BUILD_FILE), KubernetesRequest(Path("."), Path("/nonexistent"), tag="1")
    )
    graces = {
        o["metadata"]["name"]: o["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        for o in objects if o["kind"] == "Deployment"
    }
    for name in ("www", "workers"):
        assert services[name]["stop_grace_period"] == f"{graces[name]}s"
    # supervisord stops djcelery (60 s), celerycam (30 s), platform-logs (10 s) in turn
    assert facts.CODE_STOP_GRACE >= 60 + 30 + 10


def test_code_containers_are_confined_as_the_kubernetes_pods_are():
    from platform_sim.containers.export.kubernetes.manifests import KubernetesRequest, build_objects

    services = exported().compose["services"]
    objects = build_objects(
        "soup", parse(BUILD_FILE), KubernetesRequest(Path("."), Path("/nonexistent"), tag="1")
    )
    pods = {
        o["metadata"]["name"]: o["spec"]["template"]["spec"]
        for o in objects if o["kind"] == "Deployment"
    }
    for name in ("www", "workers"):
        service = services[name]
        context = pods[name]["securityContext"]
        assert service["user"] == f"{context['runAsUser']}:{context['runAsGroup']}" == "10001:10001"
        assert service["read_only"] is True
        assert service["security_opt"] == ["no-new-privileges:true"]
        assert service["cap_drop"] == ["ALL"]
        assert "cap_add" not in service  # no capability at all, from the start
        mounts = {entry.split(":")[0]: entry for entry in service["tmpfs"]}
        assert set(mounts) == {
            "/tmp", "/run", "/home/dotcloud", "/var/log/supervisor", "/var/log/nginx"
        }
        # postinstall runs in the home; the account owns the home and the logs from the start
        # (Podman's U: the tmpfs is the container user's)
        assert mounts["/home/dotcloud"] == "/home/dotcloud:exec,mode=0755,U"
        for folder in ("/var/log/supervisor", "/var/log/nginx"):
            assert mounts[folder] == f"{folder}:mode=0755,U"
        # limits a process without CAP_SYS_RESOURCE may set, so the container can start
        assert service["ulimits"]["nofile"] == {"soft": 4096, "hard": 4096}
    for name in ("db", "broker"):
        assert "read_only" not in services[name]
        assert "user" not in services[name]
    VALIDATOR.validate(exported().compose)


def test_an_export_that_cannot_give_files_away_starts_code_as_root_with_four_capabilities(
    tmp_path,
):
    export = exported(as_account=False)
    for name in ("www", "workers"):
        service = export.compose["services"][name]
        assert "user" not in service
        assert service["cap_drop"] == ["ALL"]
        # the entrypoint's root steps only: read the secret, hand over, become the account
        assert service["cap_add"] == ["CHOWN", "DAC_READ_SEARCH", "SETGID", "SETUID"]
    VALIDATOR.validate(export.compose)
    written = write(tmp_path, export)
    assert {path.stat().st_uid for path in written} == {os.geteuid()}


def test_not_run_as_root_the_export_says_how_its_code_containers_start(app, tmp_path, monkeypatch):
    monkeypatch.setattr("platform_sim.containers.export.compose.can_give_files", lambda: False)
    target = tmp_path / "deploy"
    status, out, _ = run(["-A", "soup", "export", "compose", str(app), "-o", str(target)], tmp_path)
    assert status == 0
    assert "Not run as root: the code containers start as root" in out
    compose = yaml.safe_load((target / "compose.yaml").read_text())
    assert "cap_add" in compose["services"]["www"] and "user" not in compose["services"]["www"]


def test_secret_files_are_owner_only_from_their_creation(tmp_path, monkeypatch):
    modes = []
    real_open = os.open

    def recording(path, flags, mode=0o777, *args, **kwargs):
        if flags & os.O_CREAT:
            modes.append((Path(path).name, mode, bool(flags & os.O_EXCL)))
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr("os.open", recording)
    write(tmp_path, exported())
    created = [entry for entry in modes if "password" in entry[0] or "environment" in entry[0]]
    assert len(created) == 5  # db, its app role, broker, www, workers
    assert all(mode == 0o600 and exclusive for _, mode, exclusive in created), created


@pytest.mark.parametrize("name", ["db.password", "db.app-password", "www.environment.json"])
def test_a_link_where_the_export_writes_is_refused_in_one_line(app, tmp_path, name):
    target, outside = tmp_path / "deploy", tmp_path / "outside"
    target.mkdir()
    outside.write_text("someone else's file\n")
    (target / name).symlink_to(outside)
    status, _, err = run(
        ["-A", "soup", "export", "compose", str(app), "-o", str(target), "--force"], tmp_path
    )
    assert status == 2
    assert err.strip().count("\n") == 0 and f"{name} is a symbolic link" in err
    assert outside.read_text() == "someone else's file\n"
    assert not (target / "compose.yaml").exists()
