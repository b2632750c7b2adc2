"""A test run that leaves a new file in the repository is caught (tests/repo_guard.py)."""

import subprocess

from tests import repo_guard


def make_clone(path):
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / ".gitignore").write_text("/.venv/\n")
    (path / "kept.txt").write_text("mine\n")  # untracked before the run: not the tests' doing
    return path


def test_a_file_written_during_the_run_is_named(tmp_path):
    root = make_clone(tmp_path)
    before = repo_guard.untracked(root)
    (root / "test_minestrone").write_text("")
    (root / "out").mkdir()
    (root / "out" / "report.txt").write_text("x")
    assert repo_guard.left_behind(before, repo_guard.untracked(root)) == ["out/", "test_minestrone"]


def test_ignored_and_earlier_files_are_not_counted(tmp_path):
    root = make_clone(tmp_path)
    before = repo_guard.untracked(root)
    (root / ".venv").mkdir()
    (root / ".venv" / "python").write_text("")
    assert repo_guard.left_behind(before, repo_guard.untracked(root)) == []


def test_outside_a_clone_nothing_is_claimed(tmp_path):
    assert repo_guard.untracked(tmp_path / "nowhere") is None
    assert repo_guard.left_behind(None, frozenset({"x"})) == []
