"""The build-file parser: the platform's schema, defaults and every positioned error."""

import textwrap

import pytest

from platform_sim.appfile import buildfile
from platform_sim.errors import BuildFileError, UnsupportedService


def parse(text):
    return buildfile.parse(textwrap.dedent(text))


def test_tutorial_build_file_with_defaults():
    parsed = parse(
        """
        www:
            type: python

        workers:
            type: python-worker

        db:
            type: postgresql
        """
    )
    assert list(parsed.services) == ["www", "workers", "db"]
    www = parsed.services["www"]
    assert (www.type, www.approot, www.instances) == ("python", ".", 1)
    assert www.requirements == () and www.systempackages == ()
    assert www.environment == {} and www.config == {} and www.processes == {}
    assert www.ports == {} and www.postinstall is None and www.prebuild is None
    assert www.wsgi_processes == 4
    assert www.is_web and www.is_code
    assert not parsed.services["workers"].is_web and parsed.services["workers"].is_code
    assert [s.name for s in parsed.data_services()] == ["db"]
    assert [s.name for s in parsed.code_services()] == ["www", "workers"]


def test_every_key_is_read():
    parsed = parse(
        """
        api:
          type: python
          approot: src
          requirements: [gunicorn, "requests==2.0"]
          systempackages: [libxml2-dev]
          environment: {DEBUG: 1, EMPTY: , NAME: x}
          config: {python_version: v3.11, uwsgi_processes: 2}
          instances: 3
          processes: {clock: python clock.py}
          ports: {www: http, game: tcp, dns: udp}
          prebuild: ./pre
          postbuild: ./post
          postinstall: ./hooks/postinstall
          whatever: [kept]
        """
    )
    api = parsed.services["api"]
    assert api.approot == "src"
    assert api.requirements == ("gunicorn", "requests==2.0")
    assert api.systempackages == ("libxml2-dev",)
    assert api.environment == {"DEBUG": "1", "EMPTY": "", "NAME": "x"}
    assert api.config["python_version"] == "v3.11" and api.wsgi_processes == 2
    assert api.instances == 3
    assert api.processes == {"clock": "python clock.py"}
    assert api.ports == {"www": "http", "game": "tcp", "dns": "udp"}
    assert (api.prebuild, api.postbuild, api.postinstall) == (
        "./pre",
        "./post",
        "./hooks/postinstall",
    )
    assert api.extra == {"whatever": ["kept"]}
    assert api.position == (3, 9)


def test_single_process_is_named_after_the_service():
    parsed = parse("clock:\n  type: python-worker\n  process: python clock.py\n")
    assert parsed.services["clock"].processes == {"clock": "python clock.py"}


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("", '"dotcloud.yml" is empty!', 1, 1),
        ("# only a comment\n", '"dotcloud.yml" is empty!', 1, 1),
        ("{}\n", "service(s) dict cannot be empty", 1, 1),
        ("www:\n  approot: .\n", 'Missing mandatory entry: "type"', 2, 3),
        ("- www\n- db\n", "Expected a type dictionary but got a type list", 1, 1),
        ("just a string\n", "Expected a type dictionary but got a type string", 1, 1),
        ("www: python\n", "Expected a type dictionary but got a type string", 1, 6),
        (
            "www:\n  type: python\n  requirements: django\n",
            "Expected a type list but got a type string",
            3,
            17,
        ),
        (
            "www:\n  type: python\n  requirements:\n",
            "Expected a type list but got nothing",
            3,
            16,
        ),
        (
            "www:\n  type: python\n  environment: [A]\n",
            "Expected a type dictionary but got a type list",
            3,
            16,
        ),
        (
            "www:\n  type: python\n  instances: two\n",
            "Expected a type integer but got a type string",
            3,
            14,
        ),
        ("www:\n  type: [python]\n", "Expected a type string but got a type list", 2, 9),
        ("www:\n  type: lolita\n", 'Unrecognized service "lolita"', 2, 9),
        (
            "www:\n  type: python\n  ports:\n    www: prout\n",
            'Unrecognized port "prout"',
            4,
            10,
        ),
        (
            "www:sdf:\n  type: python\n",
            'Invalid characters (lowercase alphanum only) for service "www:sdf"',
            1,
            1,
        ),
        (
            "db:\n  type: postgresql\nWWW:\n  type: python\n",
            'Invalid characters (lowercase alphanum only) for service "WWW"',
            3,
            1,
        ),
        (
            "abcdefghijklmnopq:\n  type: python\n",
            'Invalid service name (must be <= 16 characters) "abcdefghijklmnopq"',
            1,
            1,
        ),
        (
            "www:\n  type: python\n  process: a\n  processes:\n    b: c\n",
            'You can\'t have both "process" and "processes" at the same time in service "www"',
            4,
            3,
        ),
        (
            "www:\n  type: python\n  instances: 0\n",
            "Invalid number of instances 0 (must be >= 1)",
            3,
            14,
        ),
        (
            "www:\n  type: python\n  instances: 11\n",
            "Invalid number of instances 11 (must be <= 10)",
            3,
            14,
        ),
        (
            "www:\n  type: python\n  config:\n    uwsgi_processes: 0\n",
            "Invalid uwsgi_processes 0 (must be >= 1)",
            4,
            22,
        ),
        (
            'www:\n  type: python\n  processes:\n    "": a\n',
            'Invalid process name "" (letters, digits, "_" and "-" only)',
            4,
            5,
        ),
        (
            'www:\n  type: python-worker\n  processes:\n    "a]\\n[b": c\n',
            'Invalid process name "a]\\n[b" (letters, digits, "_" and "-" only)',  # one line
            4,
            5,
        ),
        (
            "www:\n  type: python\n  processes:\n    ok: a\n    nginx: b\n",
            'Invalid process name "nginx" (the platform runs its own "nginx")',
            5,
            5,
        ),
        (
            "gunicorn:\n  type: python\n  process: a\n",
            'Invalid process name "gunicorn" (the platform runs its own "gunicorn")',
            3,
            12,
        ),
        (
            "www:\n  type: python\nwww:\n  type: python\n",
            'Duplicate entry "www"',
            3,
            1,
        ),
    ],
)
def test_error_table(text, message, line, column):
    with pytest.raises(BuildFileError) as caught:
        buildfile.parse(text)
    error = caught.value
    assert (error.problem, error.line, error.column) == (message, line, column)
    assert str(error) == f'{message} in "dotcloud.yml", line {line}, column {column}'


def test_a_trailing_newline_is_not_part_of_a_valid_name():
    with pytest.raises(BuildFileError, match="Invalid characters"):
        buildfile.parse('"www\\n":\n  type: python\n')


def test_sixteen_characters_is_the_limit():
    name = "a" * 16
    assert list(buildfile.parse(f"{name}:\n  type: python\n").services) == [name]


@pytest.mark.parametrize(
    ("text", "problem", "line", "column"),
    [
        ("www:\n  type: python\n type: x\n", "YAML syntax error: ", 3, 2),
        ("www: [python\n", "YAML syntax error: ", 2, 1),
        ('www: "open\n', "YAML syntax error: ", 2, 1),
        ("a: 1\n---\nb: 2\n", "YAML syntax error: ", 2, 1),
    ],
)
def test_yaml_syntax_errors_have_a_position(text, problem, line, column):
    with pytest.raises(BuildFileError) as caught:
        buildfile.parse(text)
    assert caught.value.problem.startswith(problem)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert "Traceback" not in str(caught.value)


def test_known_type_we_do_not_run_is_refused_by_name():
    parsed = buildfile.parse("www:\n  type: python\ncache:\n  type: redis\n")
    with pytest.raises(UnsupportedService) as caught:
        buildfile.check_supported(parsed)
    assert caught.value.problem.startswith(
        'Service "cache" has type "redis", which is not supported by platform_sim'
    )
    assert (caught.value.line, caught.value.column) == (4, 9)


def test_supported_types_pass():
    parsed = buildfile.parse(
        "www: {type: python}\nw: {type: python-worker}\ndb: {type: postgresql}\n"
        "q: {type: rabbitmq}\n"
    )
    buildfile.check_supported(parsed)


def test_load_reports_a_missing_file(tmp_path):
    with pytest.raises(BuildFileError) as caught:
        buildfile.load(tmp_path)
    assert str(caught.value).startswith(f"No dotcloud.yml in {tmp_path}")


def test_load_reads_the_file(tmp_path):
    (tmp_path / "dotcloud.yml").write_text("www:\n  type: python\n")
    assert list(buildfile.load(tmp_path).services) == ["www"]
