import importlib.util
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from minestrone.deployment.admin_account import ensure_admin

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mkadmin():
    spec = importlib.util.spec_from_file_location("mkadmin", ROOT / "mkadmin.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def admin():
    return get_user_model().objects.get(username="admin")


def test_first_run_generates_a_password_prints_it_once_and_stores_it_privately(
    mkadmin, tmp_path, capsys, monkeypatch
):
    monkeypatch.delenv("MINESTRONE_ADMIN_PASSWORD", raising=False)
    secret = tmp_path / "data" / "admin-password"
    assert mkadmin.main(["--password-file", str(secret)]) == 0
    password = secret.read_text().strip()
    assert len(password) >= 16
    assert secret.stat().st_mode & 0o777 == 0o600
    out = capsys.readouterr().out
    assert password not in out  # deploy logs never see it
    assert f"password is in {secret} (mode 600)" in out
    user = admin()
    assert user.is_superuser and user.is_staff and user.check_password(password)

    assert mkadmin.main(["--password-file", str(secret)]) == 0
    out = capsys.readouterr().out
    assert "already exists; password unchanged" in out
    assert password not in out
    assert admin().check_password(password)
    assert get_user_model().objects.count() == 1


def test_password_from_the_environment_is_used_and_kept_in_step(mkadmin, monkeypatch, capsys):
    monkeypatch.setenv("MINESTRONE_ADMIN_PASSWORD", "correct-horse-battery-1")
    assert mkadmin.main(["--password-file", ""]) == 0
    assert admin().check_password("correct-horse-battery-1")
    assert "correct-horse" not in capsys.readouterr().out

    monkeypatch.setenv("MINESTRONE_ADMIN_PASSWORD", "another-long-passphrase-2")
    assert mkadmin.main([]) == 0
    assert "set the password of 'admin'" in capsys.readouterr().out
    assert admin().check_password("another-long-passphrase-2")


def test_weak_password_is_refused_with_a_message_and_nothing_created(mkadmin, monkeypatch, capsys):
    monkeypatch.setenv("MINESTRONE_ADMIN_PASSWORD", "password")
    assert mkadmin.main([]) == 2
    err = capsys.readouterr().err
    assert "MINESTRONE_ADMIN_PASSWORD is too weak" in err
    assert "too common" in err
    assert not get_user_model().objects.filter(username="admin").exists()


def test_an_existing_non_staff_admin_is_made_superuser_without_touching_its_password():
    user = get_user_model().objects.create_user("admin", password="kept-password-123")
    account = ensure_admin(None)
    user.refresh_from_db()
    assert not account.created and account.generated_password is None
    assert user.is_superuser and user.is_staff
    assert user.check_password("kept-password-123")


def test_no_default_password_is_in_the_repository():
    text = (ROOT / "mkadmin.py").read_text()
    assert "set_password('password')" not in text
    assert '"password"' not in text


def test_without_a_file_the_password_is_not_printed_outside_a_terminal(mkadmin, capsys):
    assert mkadmin.main(["--password-file", ""]) == 0
    out = capsys.readouterr().out
    assert "not shown outside a terminal: set MINESTRONE_ADMIN_PASSWORD" in out


def test_unlock_lifts_the_admin_lockouts(mkadmin, capsys):
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(
        username="admin", ip_address="10.0.0.1", user_agent="x", failures_since_start=10
    )
    AccessAttempt.objects.create(
        username="other", ip_address="10.0.0.1", user_agent="x", failures_since_start=10
    )
    assert mkadmin.main(["--unlock"]) == 0
    assert "1 lockout(s) lifted" in capsys.readouterr().out
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["other"]
