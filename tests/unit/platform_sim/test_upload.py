"""Upload of trees holding special files, and what a failed upload leaves (nothing)."""

import errno
import os
import shutil
import socket

import pytest

from platform_sim.apps import AppPaths, create
from platform_sim.builder import upload
from platform_sim.context import Context
from platform_sim.errors import PlatformError
from platform_sim.output import QuietPrinter
from platform_sim.release import prepare


def special_tree(tmp_path):
    source = tmp_path / "src"
    (source / "run").mkdir(parents=True)
    (source / "a.py").write_text("x")
    os.mkfifo(source / "run" / "fifo")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(source / "run" / "sock"))
    server.close()
    return source


def test_sockets_and_fifos_are_skipped_with_a_warning(tmp_path):
    warnings = []
    report = upload.copy_tree(special_tree(tmp_path), tmp_path / "out", warn=warnings.append)
    assert report.files == 1
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["a.py", "run"]
    assert sorted(warnings) == [
        "skipped run/fifo: not a regular file (socket, FIFO or device)",
        "skipped run/sock: not a regular file (socket, FIFO or device)",
    ]


def failing_copy(*args, **kwargs):
    raise OSError(errno.EIO, "Input/output error", str(args[0]))


def test_an_unreadable_file_is_a_platform_error(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "copy2", failing_copy)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x")
    with pytest.raises(PlatformError, match=r"cannot upload .*a\.py: Input/output error"):
        upload.copy_tree(tmp_path / "src", tmp_path / "out")


def test_a_failed_upload_leaves_no_revision_and_keeps_the_counter(tmp_path, monkeypatch):
    ctx = Context(AppPaths(tmp_path / "app"), QuietPrinter(), None, None, None, None, None)
    record = create(ctx.paths)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x")
    monkeypatch.setattr(shutil, "copy2", failing_copy)
    with pytest.raises(PlatformError):
        prepare.upload(ctx, record, tmp_path / "src")
    assert record.last_revision == 0
    assert create(ctx.paths).last_revision == 0
    assert not ctx.paths.revision(1).exists()
    monkeypatch.undo()
    assert prepare.upload(ctx, record, tmp_path / "src") == 1
    assert create(ctx.paths).last_revision == 1


@pytest.mark.parametrize("marker", upload.EXPORT_MARKERS)
def test_an_export_folder_is_never_uploaded(tmp_path, marker):
    source = tmp_path / "src"
    (source / "out").mkdir(parents=True)
    if marker.startswith("."):
        (source / "out" / marker).mkdir()
    else:
        (source / "out" / marker).write_text("kind: Namespace\n")
    (source / "out" / "db.env").write_text("POSTGRES_PASSWORD=secret\n")
    (source / "app.py").write_text("x")
    warnings = []
    upload.copy_tree(source, tmp_path / "tree", warn=warnings.append)
    assert sorted(p.name for p in (tmp_path / "tree").rglob("*")) == ["app.py"]
    assert warnings == ["skipped out/: an export's output (it holds secrets)"]


def test_the_projects_ignore_file_skips_build_and_test_leftovers():
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    patterns = upload.ignore_patterns(root)
    for leftover in ("deploy", "k8s", "artifacts", ".hypothesis", "minestrone.egg-info"):
        assert upload.is_ignored(leftover, patterns), leftover


def test_an_output_folder_inside_path_does_not_change_the_revision(tmp_path):
    from platform_sim.containers import images
    from platform_sim.errors import UsageError

    source = tmp_path / "src"
    source.mkdir()
    (source / "app.py").write_text("x")
    with images.uploaded(source, QuietPrinter()) as (_, before):
        pass
    (source / "out").mkdir()
    (source / "out" / "notes.txt").write_text("anything")
    with images.uploaded(source, QuietPrinter(), exclude=source / "out") as (tree, after):
        assert not (tree / "out").exists()
    assert after == before
    with (
        pytest.raises(UsageError, match="outside PATH"),
        images.uploaded(source, QuietPrinter(), exclude=source),
    ):
        pass


def test_the_projects_ignore_file_keeps_every_apps_static_and_templates():
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    patterns = upload.ignore_patterns(root)
    app_folders = [
        path for path in (root / "minestrone").rglob("*")
        if path.is_dir() and upload.is_app_folder(path)
    ]
    assert {path.name for path in app_folders} == {"static", "templates"}
    for path in app_folders:
        for file in path.rglob("*"):
            relative = file.relative_to(root).as_posix()
            parts = relative.split("/")
            skipped = [
                "/".join(parts[: n + 1])
                for n in range(len(parts))
                if upload.is_ignored("/".join(parts[: n + 1]), patterns)
            ]
            assert skipped == [], relative
    # what collectstatic writes at the top is still left out
    assert upload.is_ignored("static", patterns) and upload.is_ignored("media", patterns)


def app_with_static(tmp_path, rules: str):
    source = tmp_path / "src"
    for path in ("app/__init__.py", "app/static/app/site.css", "app/templates/app/a.html",
                 "static/collected.css", "docs/static/x.png"):
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        (source / path).write_text("x")
    (source / ".dotcloudignore").write_text(rules)
    return source


def test_a_rule_that_skips_an_apps_static_or_templates_folder_is_a_warning(tmp_path):
    warnings = []
    source = app_with_static(tmp_path, "static/\ntemplates\n")
    upload.copy_tree(source, tmp_path / "out", warn=warnings.append)
    assert not (tmp_path / "out" / "app" / "static").exists()  # the rule is still obeyed
    assert warnings == [
        "skipped app/static/ (ignore rule 'static'): Django reads an app's static/ folder, so "
        "its files will be missing; to skip only a folder at the top, anchor the rule: "
        "'/static/'",
        "skipped app/templates/ (ignore rule 'templates'): Django reads an app's templates/ "
        "folder, so its files will be missing; to skip only a folder at the top, anchor the "
        "rule: '/templates/'",
    ]


def test_an_anchored_rule_skips_the_top_folder_only_and_warns_of_nothing(tmp_path):
    warnings = []
    source = app_with_static(tmp_path, "/static/\n")
    upload.copy_tree(source, tmp_path / "out", warn=warnings.append)
    copied = sorted(
        p.relative_to(tmp_path / "out").as_posix()
        for p in (tmp_path / "out").rglob("*") if p.is_file()
    )
    assert copied == [
        ".dotcloudignore", "app/__init__.py", "app/static/app/site.css",
        "app/templates/app/a.html", "docs/static/x.png",
    ]
    assert warnings == []


def test_image_build_warns_of_the_same_rules(tmp_path):
    import io

    from platform_sim.containers import images
    from platform_sim.output import Printer

    out = io.StringIO()
    source = app_with_static(tmp_path, "static/\n")
    with images.uploaded(source, Printer(out)) as (tree, _):
        assert not (tree / "app" / "static").exists()
    assert "[upload] warning: skipped app/static/ (ignore rule 'static')" in out.getvalue()


def test_push_prints_the_warning_with_the_upload(tmp_path):
    import io

    from platform_sim.output import Printer

    out = io.StringIO()
    ctx = Context(AppPaths(tmp_path / "app"), Printer(out), None, None, None, None, None)
    record = create(ctx.paths)
    prepare.upload(ctx, record, app_with_static(tmp_path, "static/\n"))
    assert "       warning: skipped app/static/ (ignore rule 'static')" in out.getvalue()
