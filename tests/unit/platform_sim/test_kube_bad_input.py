"""export kubernetes refuses bad input in one line, writes nothing, and never shows a traceback."""

import io
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from platform_sim.cli import main
from platform_sim.containers.export.kubernetes.names import LABEL

GOOD = """
www: {type: python}
workers: {type: python-worker}
db: {type: postgresql}
broker: {type: rabbitmq}
"""


def run(folder: Path, *options: str, buildfile: str = GOOD, app: str = "soup"):
    """(exit status, stdout, stderr, whether the output folder exists) of one export."""
    (folder / "app").mkdir(exist_ok=True)
    (folder / "app" / "dotcloud.yml").write_text(buildfile)
    out, err = io.StringIO(), io.StringIO()
    argv = ["-A", app, "export", "kubernetes", str(folder / "app"), "-o", str(folder / "out")]
    status = main.main([*argv, *options], out=out, err=err, make=None)
    return status, out.getvalue(), err.getvalue(), (folder / "out").exists()


def assert_refused(result, status=2):
    code, out, err, written = result
    assert code == status, err
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith("platform_sim: error: ")
    assert "Traceback" not in err
    assert not written


BAD_OPTIONS = {
    "unknown external": (["--external", "cache=postgresql://a:b@h"], "no data service"),
    "code service as external": (["--external", "www=postgresql://a:b@h"], "no data service"),
    "external without url": (["--external", "db"], "SVC=URL"),
    "external wrong scheme": (["--external", "db=mysql://a:b@h"], "postgresql://"),
    "external without login": (["--external", "db=postgresql://h:5432"], "login and password"),
    "external bad port": (["--external", "db=postgresql://a:b@h:99999"], "port"),
    "external database name": (["--external", "db=postgresql://a:b@h/app"], "database name"),
    "external vhost": (["--external", "broker=amqp://a:b@h/other"], "virtual host"),
    "external twice": (
        ["--external", "db=postgresql://a:b@h", "--external", "db=postgresql://a:b@i"],
        "twice",
    ),
    "namespace uppercase": (["--namespace", "Prod"], "namespace"),
    "namespace underscore": (["--namespace", "my_ns"], "namespace"),
    "namespace too long": (["--namespace", "n" * 64], "namespace"),
    "ingress namespace": (["--ingress-namespace", "Ingress_NGINX"], "--ingress-namespace"),
    "host with scheme": (["--host", "http://soup.example.com"], "host"),
    "host with port": (["--host", "soup.example.com:80"], "host"),
    "host is an ip": (["--host", "10.0.0.1"], "IP address"),
    "host uppercase": (["--host", "Soup.example.com"], "host"),
    "prefix uppercase path": (["--image-prefix", "registry.example.com/Team/"], "image prefix"),
    "prefix empty": (["--image-prefix", ""], "image prefix"),
    "prefix double slash": (["--image-prefix", "registry.example.com//"], "image prefix"),
    "prefix with tag": (["--image-prefix", "registry.example.com/team:1/"], "image prefix"),
    "bad tag": (["--tag", "-1"], "tag"),
    "tag with a non-ASCII letter": (["--tag", "v1\u00e9"], "tag"),
    "tag of non-ASCII digits": (["--tag", "\u0661\u0662"], "tag"),
    "tag starting with a non-ASCII letter": (["--tag", "\u00c5ngstr\u00f6m"], "tag"),
    "storage class": (["--storage-class", "Fast_SSD"], "--storage-class"),
    "tls without host": (["--tls-secret", "soup-tls"], "--tls-secret needs --host"),
    "reserved variable": (["-e", "DOTCLOUD_X=1"], "reserved"),
    "variable without value": (["-e", "NOPE"], "NAME=VALUE"),
}


@pytest.mark.parametrize("case", BAD_OPTIONS, ids=str)
def test_bad_options_are_refused_in_one_line(tmp_path, case):
    options, words = BAD_OPTIONS[case]
    result = run(tmp_path, *options)
    assert_refused(result)
    assert words in result[2]


BAD_BUILD_FILES = {
    "custom ports": ("www: {type: python, ports: {api: tcp}}", "ports"),
    "unsupported code type": ("www: {type: php}", "php"),
    "unsupported data type": ("www: {type: python}\ncache: {type: redis}", "redis"),
    "name with underscore": ("www: {type: python}\nmy_db: {type: postgresql}", "rename"),
    "name starting with a digit": ("www: {type: python}\n1db: {type: postgresql}", "rename"),
    "replicated data service": ("db: {type: postgresql, instances: 2}", "replicated"),
    "two web services": ("www: {type: python}\nadmin: {type: python}", "web services"),
}


@pytest.mark.parametrize("case", BAD_BUILD_FILES, ids=str)
def test_build_file_features_without_an_equivalent_are_refused(tmp_path, case):
    text, words = BAD_BUILD_FILES[case]
    result = run(tmp_path, buildfile=text)
    assert_refused(result)
    assert words in result[2]


def test_a_missing_build_file_is_a_build_file_error(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    status = main.main(
        ["-A", "soup", "export", "kubernetes", str(tmp_path), "-o", str(tmp_path / "out")],
        out=out,
        err=err,
    )
    assert status == 3 and len(err.getvalue().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_an_app_name_kubernetes_refuses_is_refused(tmp_path):
    assert_refused(run(tmp_path, app="Soup_App"))


def test_an_output_folder_with_other_manifests_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.yaml").write_text("kind: ConfigMap\n")
    code, _, err, _ = run(tmp_path)
    assert code == 2 and "other manifests" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["mine.yaml"]


def test_an_output_path_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "out").write_text("")
    code, _, err, _ = run(tmp_path)
    assert code == 2 and "not a folder" in err


@pytest.mark.parametrize(
    "option",
    [
        "--namespace", "--host", "--image-prefix", "--tag", "--storage-class", "--external",
        "--env", "--ingress-namespace",
    ],
)
def test_a_value_of_two_dashes_is_refused_not_a_traceback(tmp_path, option):
    # argparse hands such a value over as an empty list
    assert_refused(run(tmp_path, f"{option}=--"))


def test_good_input_exports(tmp_path):
    code, out, err, written = run(tmp_path, "--host", "soup.example.com")
    assert (code, err) == (0, "") and written
    assert "kubectl apply -f" in out


NAME_ALPHABET = st.sampled_from("abcxyz019-_.AZ:/@ \n")
FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def outcome(*options):
    with tempfile.TemporaryDirectory() as folder:
        return run(Path(folder), *options)


@FAST
@given(st.text(NAME_ALPHABET, min_size=0, max_size=70))
@example("--")
def test_any_namespace_is_exported_or_refused_in_one_line(namespace):
    result = outcome(f"--namespace={namespace}")
    if LABEL.fullmatch(namespace):
        assert result[0] == 0 and result[3]
    else:
        assert_refused(result)


@FAST
@given(st.text(NAME_ALPHABET, min_size=0, max_size=40))
@example("--")
def test_any_host_is_exported_or_refused_in_one_line(host):
    result = outcome(f"--host={host}")
    if result[0] == 0:
        assert result[3] and all(LABEL.fullmatch(part) for part in host.split("."))
    else:
        assert_refused(result)


@FAST
@given(st.text(NAME_ALPHABET, min_size=0, max_size=40))
@example("--")
def test_any_image_prefix_is_exported_or_refused_in_one_line(prefix):
    result = outcome(f"--image-prefix={prefix}")
    if result[0] != 0:
        assert_refused(result)


@FAST
@given(st.text(max_size=130))
@example("v1.0-rc_2")
@example("\u00e9t\u00e9")
def test_any_tag_is_exported_only_when_registries_accept_it(tag):
    result = outcome(f"--tag={tag}")
    if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag):
        assert result[0] == 0 and result[3]
    else:
        assert_refused(result)


@FAST
@given(st.text(st.characters(codec="utf-8"), max_size=60))
def test_any_external_value_is_exported_or_refused_in_one_line(url):
    result = outcome(f"--external=db={url}")
    if result[0] != 0:
        assert_refused(result)


def test_secrets_come_from_an_env_file_off_the_command_line(tmp_path, monkeypatch):
    import base64

    import yaml

    monkeypatch.setenv("PLATFORM_SIM_HOME", str(tmp_path / "home"))
    given = b"DJANGO_SECRET_KEY=s3cr=t\nA=1\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(given)))
    code, _, err, written = run(tmp_path, "--env-file", "-", "-e", "A=2")
    assert code == 0 and written, err
    secrets_file = next((tmp_path / "out").glob("*secrets*.yaml"))
    documents = [doc for doc in yaml.safe_load_all(secrets_file.read_text()) if doc]
    www = next(doc for doc in documents if doc["metadata"]["name"] == "www-environment")
    values = {k: base64.b64decode(v).decode() for k, v in www.get("data", {}).items()}
    values.update(www.get("stringData", {}))
    assert values["DJANGO_SECRET_KEY"] == "s3cr=t"
    assert values["A"] == "2"  # -e wins over the file


def test_an_unreadable_env_file_is_one_line_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("PLATFORM_SIM_HOME", str(tmp_path / "home"))
    result = run(tmp_path, "--env-file", str(tmp_path / "missing.env"))
    assert_refused(result)
    assert "cannot read" in result[2]
