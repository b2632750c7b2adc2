"""A bad environment file under the real WSGI server: one line, and gunicorn stops (no loop)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VALID = {
    "DOTCLOUD_DB_SQL_LOGIN": "root",
    "DOTCLOUD_DB_SQL_PASSWORD": "pw",
    "DOTCLOUD_DB_SQL_HOST": "127.0.0.1",
    "DOTCLOUD_DB_SQL_PORT": "5432",
    "DOTCLOUD_BROKER_AMQP_HOST": "127.0.0.1",
    "DOTCLOUD_BROKER_AMQP_PORT": "5672",
    "DOTCLOUD_BROKER_AMQP_LOGIN": "root",
    "DOTCLOUD_BROKER_AMQP_PASSWORD": "pw",
}


def test_gunicorn_stops_with_the_configuration_error_line(tmp_path):
    env_file = tmp_path / "environment.json"
    env_file.write_text(json.dumps({**VALID, "DJANGO_SECRET_KEY": "nan"}))
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = subprocess.run(
        [str(gunicorn), "--bind", f"unix:{tmp_path}/s.sock", "--workers", "1", "wsgi:application"],
        cwd=ROOT,
        env={**env, "MINESTRONE_ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 4  # gunicorn's "App failed to load": it does not respawn
    lines = [line for line in result.stderr.splitlines() if "configuration error" in line]
    assert len(lines) == 1
    assert lines[0].startswith("wsgi: configuration error: DJANGO_SECRET_KEY is too weak: ")
    assert "Traceback" not in result.stderr
