"""The command line: --help on every command; errors become a message and an exit status."""

import io

import pytest

from platform_sim.cli import main
from platform_sim.context import Context
from platform_sim.errors import BuildFileError, StepFailed

COMMANDS = [
    [],
    ["push"],
    ["info"],
    ["destroy"],
    ["verify"],
    ["addon"],
    ["addon", "add"],
    ["addon", "list"],
    ["addon", "remove"],
    ["env"],
    ["env", "list"],
    ["env", "set"],
    ["env", "unset"],
    ["var"],
    ["var", "set"],
    ["logs"],
    ["run"],
    ["scale"],
    ["restart"],
    ["status"],
    ["url"],
    ["revisions"],
    ["deploy"],
    ["image"],
    ["image", "build"],
    ["export"],
    ["export", "compose"],
    ["export", "kubernetes"],
    ["kube-play"],
    ["kube-play", "up"],
    ["kube-play", "down"],
]


@pytest.mark.parametrize("words", COMMANDS, ids=lambda words: " ".join(words) or "main")
def test_every_command_has_help(words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main.main([*words, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: platform_sim")
    assert len(text.splitlines()) > 3


def test_every_sub_command_is_listed_with_a_help_line():
    text = main.build_parser().format_help()
    listed = {
        line.split()[0]
        for line in text.splitlines()
        if line.startswith("    ") and len(line.split()) > 1
    }
    assert {words[0] for words in COMMANDS if words} - {"var"} <= listed
    assert "    env (var) " in text  # the older CLI's spelling


def test_global_app_option_goes_before_the_command():
    args = main.build_parser().parse_args(["-A", "soup", "push", "somewhere", "--clean"])
    assert (args.app, args.command, args.path, args.clean) == ("soup", "push", "somewhere", True)


def test_app_name_defaults_to_the_folder(tmp_path):
    folder = tmp_path / "my-app"
    folder.mkdir()
    args = main.build_parser().parse_args(["push", str(folder)])
    assert main.app_name(args, folder) == "my-app"


def failing_factory(error):
    def make(paths, printer):
        raise error

    return make


def run(argv, make):
    out, err = io.StringIO(), io.StringIO()
    status = main.main(argv, out=out, err=err, make=make)
    return status, out.getvalue(), err.getvalue()


def test_build_file_error_is_one_line_and_exit_3(tmp_path):
    error = BuildFileError('Unrecognized service "lolita"', 2, 9)
    status, _, err = run(["-A", "x", "push", str(tmp_path)], failing_factory(error))
    assert status == 3
    assert err == (
        'platform_sim: error: Unrecognized service "lolita" in "dotcloud.yml", line 2, column 9\n'
    )


def test_failed_step_shows_service_step_status_and_tail(tmp_path):
    error = StepFailed("www.0", "postinstall", 3, "line one\nline two")
    status, _, err = run(["-A", "x", "push", str(tmp_path)], failing_factory(error))
    assert status == 5
    assert err.splitlines() == [
        "platform_sim: error: [www.0] postinstall exited with status 3",
        "    line one",
        "    line two",
    ]


def test_timed_out_step_says_so():
    assert str(StepFailed("www.0", "postinstall", None, "")) == "[www.0] postinstall timed out"


def test_unknown_app_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("PLATFORM_SIM_HOME", str(tmp_path))
    from platform_sim.context import Context
    from platform_sim.output import Printer

    def make(paths, printer):
        return Context(paths, Printer(io.StringIO()), None, None, None, None, None)

    status, _, err = run(["-A", "ghost", "info"], make)
    assert status == 4
    assert err.startswith("platform_sim: error: no application 'ghost'")


def test_invalid_app_name_is_a_usage_error(tmp_path):
    status, _, err = run(["-A", "no/slash", "info"], failing_factory(AssertionError()))
    assert status == 2
    assert "cannot name an application" in err


def fake_context(paths, printer):
    return Context(paths, printer, None, None, None, None, None)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["scale", "www=two"], "'two' is not a number of instances: write e.g. www=2"),
        (["scale", "www=2"], "application 'x' has never been pushed"),
        (["logs", "-n", "-1"], "-n -1: the number of lines cannot be negative"),
        (["logs", "www.x"], "'www.x' is neither SVC nor SVC.N"),
        (["run", "www", "--", "true"], "application 'x' has never been pushed"),
        (["restart", "www.0"], "application 'x' has never been pushed"),
        (["deploy", "previous"], "application 'x' has never been pushed"),
        (["env", "set", "DOTCLOUD_X=1"], "DOTCLOUD_X: names starting with DOTCLOUD_ are reserved"),
        (["var", "set", "NOEQUALS"], "'NOEQUALS' is not NAME=VALUE"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, argv, message):
    monkeypatch.setenv("PLATFORM_SIM_HOME", str(tmp_path))
    status, out, err = run(["-A", "x", *argv], fake_context)
    assert status == 2
    assert err.startswith(f"platform_sim: error: {message}")
    assert len(err.splitlines()) == 1 and out == ""
    assert list(tmp_path.iterdir()) == []  # nothing was created


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["addon", "remove", "cloudamqp"], 4, "no application 'x'"),
        (["addon", "remove", "nosuch"], 2, "unknown add-on 'nosuch'"),
        (["addon", "list"], 4, "no application 'x'"),
        (["env", "list"], 4, "no application 'x'"),
        (["env", "unset", "K"], 4, "no application 'x'"),
    ],
)
def test_unknown_app_leaves_no_state_behind(tmp_path, monkeypatch, argv, status, message):
    monkeypatch.setenv("PLATFORM_SIM_HOME", str(tmp_path))
    code, _, err = run(["-A", "x", *argv], fake_context)
    assert code == status
    assert err.startswith(f"platform_sim: error: {message}") and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # nothing was created


def test_env_set_before_the_first_push_only_stores(tmp_path, monkeypatch):
    monkeypatch.setenv("PLATFORM_SIM_HOME", str(tmp_path))
    status, out, _ = run(["-A", "x", "var", "set", "K=v"], fake_context)
    assert status == 0
    assert out == "Variables set; the app was never pushed: they apply at its first push\n"
    assert run(["-A", "x", "env", "list"], fake_context)[1] == "K=v\n"


def test_env_set_reads_secrets_from_a_file_or_standard_input(tmp_path, monkeypatch):
    monkeypatch.setenv("PLATFORM_SIM_HOME", str(tmp_path / "home"))
    secrets = tmp_path / "secrets.env"
    secrets.write_bytes(b"# the app's keys\r\n\nDJANGO_SECRET_KEY=a=b\tc\r\nTOKEN=t\n")
    status, out, _ = run(
        ["-A", "x", "env", "set", "--from-file", str(secrets), "K=v"], fake_context
    )
    assert status == 0 and "Variables set" in out
    listed = run(["-A", "x", "env", "list"], fake_context)[1]
    assert listed == "DJANGO_SECRET_KEY=a=b\tc\nK=v\nTOKEN=t\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"FROM_STDIN=1\n")))
    assert run(["-A", "x", "env", "set", "--from-file", "-"], fake_context)[0] == 0
    assert "FROM_STDIN=1\n" in run(["-A", "x", "env", "list"], fake_context)[1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read {file}: No such file or directory"),
        (b"", "{file} sets no variable: write NAME=VALUE lines"),
        (b"# only a comment\n", "{file} sets no variable"),
        (b"A=1\nSECRET-NO-EQUALS\n", "{file}, line 2: not NAME=VALUE (no '=')"),
        (b"9X=hidden-value\n", "{file}, line 1: '9X' is not a valid variable name"),
        (b"DOTCLOUD_X=1\n", "{file}, line 1: DOTCLOUD_X: names starting with DOTCLOUD_"),
        (b"A=x\x00y\n", "{file}, line 1: holds the control character U+0000"),
        (
            b"S=hidden-value\x1cDJANGO_DEBUG=1\n",
            "{file}, line 1: holds the control character U+001C",
        ),
        (
            "A=1\nS=hidden-value\x85B=1\n".encode(),
            "{file}, line 2: holds the control character U+0085",
        ),
        (
            "S=hidden-value\u2028B=1\n".encode(),
            "{file}, line 1: holds the control character U+2028",
        ),
        (b"S=hidden-value\rB=1\n", "{file}, line 1: holds the control character U+000D"),
        (b"A=\xff\n", "{file} is not UTF-8 text"),
    ],
)
def test_a_bad_variables_file_is_one_line_and_stores_nothing(
    tmp_path, monkeypatch, content, message
):
    monkeypatch.setenv("PLATFORM_SIM_HOME", str(tmp_path / "home"))
    file = tmp_path / "vars.env"
    if content is not None:
        file.write_bytes(content)
    status, out, err = run(["-A", "x", "env", "set", "--from-file", str(file)], fake_context)
    assert status == 2 and out == ""
    assert err.startswith(f"platform_sim: error: {message.format(file=file)}")
    assert len(err.splitlines()) == 1 and "hidden-value" not in err
    assert not (tmp_path / "home").exists()


def test_env_set_with_nothing_to_set_says_how(tmp_path, monkeypatch):
    monkeypatch.setenv("PLATFORM_SIM_HOME", str(tmp_path))
    status, _, err = run(["-A", "x", "env", "set"], fake_context)
    assert status == 2
    assert err == "platform_sim: error: env set needs NAME=VALUE words or --from-file FILE\n"


def test_run_passes_the_command_after_the_double_dash():
    args = main.build_parser().parse_args(["run", "www.0", "--", "ls", "-l"])
    assert args.target == "www.0" and args.cmd[-2:] == ["ls", "-l"]
    args = main.build_parser().parse_args(["run", "www.0", "python", "-c", "print(1)"])
    assert args.cmd == ["python", "-c", "print(1)"]


def test_verify_and_export_take_the_words_over_the_file(tmp_path):
    from platform_sim.ops import variables

    file = tmp_path / "vars.env"
    file.write_text("A=from-file\nB=b\n")
    assert variables.given_assignments(["A=word"], str(file)) == {"A": "word", "B": "b"}
    assert variables.given_assignments(["A=word"], None) == {"A": "word"}
    parsed = main.build_parser().parse_args(["verify", ".", "--env-file", str(file)])
    assert parsed.env_file == str(file)
