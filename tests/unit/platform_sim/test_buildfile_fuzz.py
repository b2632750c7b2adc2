"""Hostile build files: every one is accepted or refused with one positioned line, never a crash."""

import io
import os
import re
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from platform_sim.appfile import buildfile
from platform_sim.appfile.safe_yaml import MAX_CHARACTERS, MAX_DEPTH
from platform_sim.apps import AppPaths
from platform_sim.cli import main
from platform_sim.context import Context
from platform_sim.errors import BuildFileError, PlatformError

FUZZ = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
POSITIONED = re.compile(r' in "dotcloud\.yml", line \d+, column \d+$')
SEEDS = [
    (Path(__file__).parents[3] / "dotcloud.yml").read_text(),
    "www:\n  type: python\n  instances: 2\n  config:\n    uwsgi_processes: 3\n"
    "  environment:\n    KEY: value\n  ports:\n    api: tcp\n  requirements:\n    - x\n",
    "workers:\n  type: python-worker\n  processes:\n    a: run a\n    b: run b\n"
    "  postinstall: ./postinstall\n",
    "www: {type: python, approot: app, process: gunicorn-free}\ndb: {type: postgresql}\n",
]
# What an attacker or a slip of the keyboard puts in a build file.
HOSTILE = [
    "!!bool ", "!!float ", "!!int ", "!!str ", "!!null ", "!!binary ", "!!set ", "!!timestamp ",
    "!!python/name:os.system ", "!!python/object/apply:os.system ", "!custom ", "!!map ",
    "!!seq ", "&a ", "*a", "*b", "<<: ", ": ", "- ", "? ", "---\n", "...\n", "%YAML 1.1\n",
    "\t", "\x01", "\x00", "\x7f", "\ufeff", "\u202e", "\ud800", "[", "]", "{", "}", ",", "'",
    '"', "\\", "#", "|\n", ">\n", "\n", "  ", "maybe", "x", "abc", "9" * 5000, "[" * 2000,
    "1e999", ".nan", "-1", "0", "11", "0x1F", "2001-13-99", "~", "yes", "é",
]

# --- the cases of the issue, and their kin --------------------------------------------------

REGRESSIONS = [
    ("www:\n  type: !!bool maybe\n", '"maybe" is not a valid !!bool value', 2, 9),
    ("www:\n  type: python\n  instances: !!float x\n", '"x" is not a valid !!float value', 3, 14),
    ("www:\n  type: python\n  x: !!int abc\n", '"abc" is not a valid !!int value', 3, 6),
    ("www:\n  type: python\n  x: a\x01b\n", "The character U+0001 is not allowed", 3, 7),
    (
        "www:\n  type: python\n  x: " + "[" * 2000 + "]" * 2000 + "\n",
        f"Values nested more than {MAX_DEPTH} levels deep",
        3,
        4 + MAX_DEPTH,
    ),
    (
        "www:\n  type: python\n  x: !!python/name:os.system\n",
        "The tag !!python/name:os.system is not allowed",
        3,
        6,
    ),
    (
        "www:\n  type: python\n  x: !!python/object/apply:os.system [ls]\n",
        "The tag !!python/object/apply:os.system is not allowed",
        3,
        6,
    ),
    ("www:\n  type: python\n  instances: " + "9" * 5000 + "\n", "not a valid !!int value", 3, 14),
    ("www:\n  type: python\n  x: !!timestamp 2001-13-99\n", "is not a valid !!timestamp", 3, 6),
    ("www:\n  type: python\n  config: {uwsgi_processes: !!int x}\n", "!!int value", 3, 29),
    ("www:\n  type: python\n  x: {[1]: 2}\n", "YAML syntax error: ", 3, 7),
    ("www:\n  type: python\n  x: &a [*a]\n", "The alias *a is inside its own anchor", 3, 10),
    ("www:\n  type: python\n  x: \ud800\n", "The character U+D800 is not allowed", 3, 6),
    ("!!float !!bool www: {type: python}\n", '"" is not a valid !!float value', 1, 1),
    ("!!timestamp www:\n  type: python\n", '"www" is not a valid !!timestamp value', 1, 1),
]


@pytest.mark.parametrize(("text", "problem", "line", "column"), REGRESSIONS)
def test_issue_cases_are_positioned_errors(text, problem, line, column):
    with pytest.raises(BuildFileError) as caught:
        buildfile.parse(text)
    assert caught.value.problem.startswith(problem) or problem in caught.value.problem
    assert (caught.value.line, caught.value.column) == (line, column)
    assert "\n" not in str(caught.value)


def test_a_line_break_in_an_argument_stays_on_the_error_line(home):
    err = io.StringIO()
    assert main.main(["verify", ".", "-e", "\n"], err=err, make=stop_at_work) == 2
    assert err.getvalue() == (
        "platform_sim: error: '\\n' is not NAME=VALUE: write \\n=value "
        "(quote the whole word when the value has spaces)\n"
    )


def test_aliases_that_expand_beyond_the_limit_are_refused():
    laughs = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    laughs += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(BuildFileError, match="Too many values"):
        buildfile.parse("\n".join(laughs) + "\n")


def test_a_build_file_over_the_size_limit_is_refused_before_parsing(tmp_path):
    (tmp_path / "dotcloud.yml").write_text("#" * (MAX_CHARACTERS + 1))
    with pytest.raises(BuildFileError, match=f"at most {MAX_CHARACTERS} bytes"):
        buildfile.load(tmp_path)
    with pytest.raises(BuildFileError, match="characters long"):
        buildfile.parse("#" * (MAX_CHARACTERS + 1))


def test_a_build_file_that_is_not_a_regular_file_is_refused(tmp_path):
    os.mkfifo(tmp_path / "dotcloud.yml")
    with pytest.raises(BuildFileError, match="not a regular file"):
        buildfile.load(tmp_path)


def test_merge_keys_and_plain_dates_still_work():
    parsed = buildfile.parse(
        "www:\n  type: python\n  config:\n    base: &b {a: 1}\n    more: {<<: *b, c: 2}\n"
        "  environment:\n    SINCE: 2001-12-14\n"
    )
    service = parsed.services["www"]
    assert service.config["more"] == {"a": 1, "c": 2}
    assert service.environment["SINCE"] == "2001-12-14"


# --- generated and mutated files ------------------------------------------------------------


def check_outcome(text):
    """Accepted, or one BuildFileError line with a position: nothing else may come out."""
    try:
        parsed = buildfile.parse(text)
    except BuildFileError as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message
        assert POSITIONED.search(message), message
        return None
    try:
        buildfile.check_supported(parsed)
    except BuildFileError as exc:
        assert POSITIONED.search(str(exc))
    return parsed


@st.composite
def mutated(draw):
    """A valid build file with hostile fragments inserted, lines deleted or characters replaced."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "insert", "delete", "replace", "duplicate"]))
        if action == "insert":
            fragment = draw(st.sampled_from(HOSTILE) | st.text(max_size=8))
            text = text[:position] + fragment + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 20)) :]
        elif action == "replace" and position < len(text):
            text = text[:position] + draw(st.characters()) + text[position + 1 :]
        else:
            line = text[:position].rsplit("\n", 1)[-1]
            text = text[:position] + "\n" + line + text[position:]
    return text


TYPES = st.sampled_from(["python", "python-worker", "postgresql", "rabbitmq", "redis", "x"])
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | TYPES
KEYS = st.sampled_from(sorted(buildfile.SCHEMA) + ["process", "uwsgi_processes", "x"]) | st.text(
    max_size=10
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)
OPTIONAL = {key: VALUES for key in [*buildfile.SCHEMA, "process"] if key != "type"}
SERVICE = st.fixed_dictionaries({"type": TYPES}, optional=OPTIONAL) | st.dictionaries(
    KEYS, VALUES, max_size=4
)


@st.composite
def generated(draw):
    """A YAML document of the build file's shape, with values of every kind in every place."""
    names = st.sampled_from(["www", "workers", "db", "a-b", "x" * 17]) | st.text(max_size=6)
    services = draw(st.dictionaries(names, SERVICE, max_size=3))
    flow = draw(st.booleans())
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when present: faster
    unicode = draw(st.booleans())
    return yaml.dump(services, Dumper=dumper, default_flow_style=flow, allow_unicode=unicode)


@settings(FUZZ, max_examples=1000)
@given(mutated())
def test_mutated_build_files_never_crash(text):
    check_outcome(text)


@settings(FUZZ, max_examples=300)
@given(generated())
def test_generated_build_files_never_crash(text):
    check_outcome(text)


# --- through the command line: verify and push ---------------------------------------------


class Reached(PlatformError):
    """The command got past the build file to real work: accepted."""

    exit_code = 99


class Tripwire:
    """A collaborator that stops the command the moment it is used."""

    def __getattr__(self, name):
        raise Reached(f"reached {name}")


def stop_at_work(paths, printer):
    raise Reached("reached the context")


def tripwire_context(root):
    def make(paths, printer):
        wire = Tripwire()
        return Context(AppPaths(root / paths.name), printer, wire, wire, wire, wire, wire)

    return make


@pytest.fixture
def home(monkeypatch):
    """A state home and a temporary folder of our own: whatever is left in them is seen."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        monkeypatch.setenv("PLATFORM_SIM_HOME", str(Path(folder) / "state"))
        (Path(folder) / "tmp").mkdir()
        monkeypatch.setattr(tempfile, "tempdir", str(Path(folder) / "tmp"))
        yield Path(folder)


def assert_nothing_left(home):
    assert list((home / "tmp").iterdir()) == []  # verify's throw-away copy is gone


def run_cli(argv, make):
    out, err = io.StringIO(), io.StringIO()
    try:
        status = main.main(argv, out=out, err=err, make=make)
    except SystemExit as exc:  # argparse: usage line, then one error line
        assert exc.code == 2
        return 2, ""
    return status, err.getvalue()


def assert_clean(status, err, build_file_ok):
    event(f"exit status {status}")
    if status in (Reached.exit_code, 7):  # got to the real work (7: not root here)
        assert build_file_ok is not None
        return
    assert status == 3, (status, err)
    assert build_file_ok is None
    (line,) = err.splitlines()
    assert line.startswith("platform_sim: error: ") and POSITIONED.search(line), line


@settings(FUZZ, max_examples=300)
@given(st.one_of(mutated(), generated()))
def test_verify_exits_3_with_one_line_for_any_bad_build_file(home, text):
    app = home / "app"
    app.mkdir(exist_ok=True)
    (app / "dotcloud.yml").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        expected = buildfile.load(app)
        buildfile.check_supported(expected)
    except BuildFileError:
        expected = None
    status, err = run_cli(["-A", "app", "verify", str(app)], stop_at_work)
    assert_clean(status, err, expected)
    assert_nothing_left(home)


@settings(FUZZ, max_examples=150)
@given(st.one_of(mutated(), generated()))
def test_push_exits_3_with_one_line_for_any_bad_build_file(home, text):
    app = home / "app"
    app.mkdir(exist_ok=True)
    (app / "dotcloud.yml").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        expected = buildfile.load(app)
        buildfile.check_supported(expected)
    except BuildFileError:
        expected = None
    status, err = run_cli(["-A", "app", "push", str(app)], tripwire_context(home / "apps"))
    assert_clean(status, err, expected)
    assert_nothing_left(home)


# Real command lines hold no NUL; undecodable bytes arrive as surrogate escapes.
ARGUMENT = st.binary(max_size=12).map(lambda b: os.fsdecode(b.replace(b"\x00", b""))) | (
    st.sampled_from(["-A", "-e", "--env", "--clean", "--", "-", ".", "x=1", "=", "A=", "push",
                     "verify", "..", "/", "nosuch", "-h"])
)


@settings(FUZZ, max_examples=400)
@given(st.sampled_from(["verify", "push"]), st.lists(ARGUMENT, max_size=6))
def test_verify_and_push_arguments_never_crash(home, command, arguments):
    argv = [*arguments[:1], command, *arguments[1:]] if arguments[:1] == ["-A"] else [
        command,
        *arguments,
    ]
    out, err = io.StringIO(), io.StringIO()
    try:
        status = main.main(argv, out=out, err=err, make=stop_at_work)
    except SystemExit as exc:
        assert exc.code in (0, 2)
        return
    finally:
        assert_nothing_left(home)
    assert status in (2, 3, 4, 7, Reached.exit_code), (status, err.getvalue())
    if status != Reached.exit_code:
        assert len(err.getvalue().splitlines()) == 1, err.getvalue()
