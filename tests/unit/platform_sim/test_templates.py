"""supervisord and nginx configurations rendered from templates, parsed by the real parsers."""

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from platform_sim.render import nginx, supervisor
from platform_sim.render.templates import render


def test_render_replaces_and_refuses_unknown_names():
    assert render("a {{ x }} b {{y}}", {"x": 1, "y": "z"}) == "a 1 b z"
    with pytest.raises(KeyError):
        render("{{ missing }}", {})


def main_config(service_type="python", processes=None, home="/home/dotcloud"):
    programs = supervisor.platform_programs(
        service_type, processes or {}, home=home, nginx="/usr/sbin/nginx", wsgi_processes=4
    )
    return supervisor.render_main(
        app="soup",
        instance="www.0",
        generation=3,
        home=home,
        control_port=4567,
        control_password="pw",
        programs=programs,
    )


def sections(text):
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";",))
    parser.read_string(text)
    return parser


def test_python_service_runs_nginx_and_the_wsgi_server():
    parser = sections(main_config("python", {"clock": "python clock.py --every 5%"}))
    assert parser["include"]["files"] == "/home/dotcloud/current/supervisord.conf"
    assert parser["inet_http_server"]["port"] == "127.0.0.1:4567"
    nginx_command = parser["program:nginx"]["command"]
    assert nginx_command.startswith("/usr/sbin/nginx -c /home/dotcloud/platform/nginx.conf")
    gunicorn = parser["program:gunicorn"]["command"]
    assert gunicorn.startswith("/home/dotcloud/env/bin/gunicorn --bind unix:")
    assert "--workers 4" in gunicorn and gunicorn.endswith("wsgi:application")
    assert parser["program:clock"]["command"] == "python clock.py --every 5%%"
    for name in ("nginx", "gunicorn", "clock"):
        program = parser[f"program:{name}"]
        assert program["autorestart"] == "true"
        assert program["directory"] == "/home/dotcloud/current"
        assert program["stdout_logfile"] == "/var/log/supervisor/%(program_name)s.log"
        assert program["stderr_logfile"] == "/var/log/supervisor/%(program_name)s_error.log"


def test_worker_service_has_no_web_programs():
    parser = sections(main_config("python-worker"))
    assert not [s for s in parser.sections() if s.startswith("program:")]
    assert parser["supervisord"]["logfile"] == "/var/log/supervisor/supervisord.log"


def test_escape_keeps_one_line_and_doubles_percent():
    assert supervisor.escape("a\nb 100%") == "a b 100%%"


def test_supervisor_itself_parses_the_config_and_checks_commands(tmp_path):
    home = tmp_path / "home"
    (home / "current").mkdir(parents=True)
    (home / "platform").mkdir()
    (home / "current" / "supervisord.conf").write_text(
        "[program:djcelery]\ndirectory = $HOME/current/\ncommand = python manage.py celeryd\n"
        f"stdout_logfile = {tmp_path}/log/%(program_name)s.log\n"
        "[program:ghost]\ncommand = no-such-program --flag\n"
    )
    # an instance has its own /var/log/supervisor (a private mount); this machine may have none
    (tmp_path / "log").mkdir()
    text = main_config("python-worker", {"clock": "sh -c 'sleep 1'"}, home=str(home))
    text = text.replace("/var/log/supervisor", f"{tmp_path}/log")
    (home / "platform" / "supervisord.conf").write_text(text)
    problems = supervisor.check_config(
        str(home / "platform" / "supervisord.conf"), {"PATH": "/usr/bin:/bin"}
    )
    messages = sorted(str(problem) for problem in problems)
    assert "program ghost: command 'no-such-program --flag' does not resolve" in messages
    assert any(m.startswith("program djcelery: directory $HOME/current/") for m in messages)
    assert any(m.startswith("program djcelery: command 'python manage.py") for m in messages)
    assert not any(m.startswith("program clock") for m in messages)


def test_a_config_that_does_not_parse_is_reported(tmp_path):
    path = tmp_path / "supervisord.conf"
    path.write_text("[supervisord]\n[program:x]\nautostart = maybe\ncommand = /bin/true\n")
    (problem,) = supervisor.check_config(str(path), {"PATH": "/bin"})
    assert "does not parse" in problem.message


def test_resolve_searches_the_path(tmp_path):
    assert supervisor.resolve("sh -c true", "/nonexistent:/bin") == "/bin/sh"
    assert supervisor.resolve("/bin/sh -c true", "") == "/bin/sh"
    assert supervisor.resolve("missing-command", "/bin") is None
    assert supervisor.resolve("'unbalanced", "/bin") is None


def test_instance_nginx_includes_the_app_rules_and_maintenance():
    text = nginx.render_instance(
        app="soup", instance="www.0", generation=2, home="/home/dotcloud", port=5000
    )
    assert "listen 127.0.0.1:5000;" in text
    assert "include /home/dotcloud/current/*nginx.conf;" in text
    assert "if (-f /home/dotcloud/current/maintenance) {\n            return 503;" in text
    assert "server unix:/home/dotcloud/platform/wsgi.sock" in text
    server_block = text.split("server {", 1)[1]
    assert server_block.index("*nginx.conf") < server_block.index("location / {")
    assert "include /home/dotcloud/current/*uwsgi.conf;" in text.split("location / {")[1]
    assert "server_tokens off;" in text.split("server {")[0]


def test_router_balances_over_the_instances():
    text = nginx.render_router(
        app="soup", generation=4, directory="/r", services={"www": (8080, [5001, 5002])}
    )
    assert "listen 127.0.0.1:8080;" in text
    assert "server 127.0.0.1:5001 max_fails=0;\n        server 127.0.0.1:5002" in text
    assert "proxy_pass http://app_www;" in text
    assert "0.0.0.0" not in text
    assert "server_tokens off;" in text.split("server {")[0]
    location = text.split("location / {")[1]
    assert "proxy_connect_timeout 5s;" in location  # a gone instance: the next one, soon
    assert "proxy_next_upstream error timeout http_502;" in location
    assert "upstream=$upstream_addr" in text  # the access log says which instance answered


def test_router_behind_the_forwarder_takes_the_client_address_from_the_proxy_protocol():
    text = nginx.render_router(
        app="soup",
        generation=4,
        directory="/r",
        services={"www": (8080, [5001])},
        address="198.18.7.2",
        upstream_hosts={5001: "198.18.7.3"},
        forwarder="198.18.7.1",
    )
    assert "listen 198.18.7.2:8080 proxy_protocol;" in text
    assert "set_real_ip_from 198.18.7.1;\n        real_ip_header proxy_protocol;" in text
    assert "server 198.18.7.3:5001 max_fails=0;" in text


def test_router_on_loopback_has_no_proxy_protocol():
    text = nginx.render_router(
        app="soup", generation=4, directory="/r", services={"www": (8080, [5001])}
    )
    assert "proxy_protocol" not in text
    assert "real_ip" not in text


nginx_binary = shutil.which("nginx", path="/usr/sbin:/usr/bin:/sbin:/bin")


@pytest.mark.skipif(nginx_binary is None, reason="nginx is not installed")
def test_nginx_accepts_both_configurations(tmp_path):
    home = tmp_path / "home"
    (home / "current").mkdir(parents=True)
    app_rules = Path(__file__).parents[3] / "nginx.conf"  # the app's own, as pushed
    (home / "current" / "nginx.conf").write_text(app_rules.read_text())
    (home / "platform" / "nginx").mkdir(parents=True)
    conf = home / "platform" / "nginx.conf"
    text = nginx.render_instance(
        app="soup", instance="www.0", generation=1, home=str(home), port=5000
    )
    conf.write_text(text.replace("/var/log/nginx/", f"{tmp_path}/"))
    result = subprocess.run(
        [nginx_binary, "-t", "-q", "-c", str(conf), "-e", str(tmp_path / "e.log")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    router = tmp_path / "router"
    (router / "tmp").mkdir(parents=True)
    (router / "nginx.conf").write_text(
        nginx.render_router(
            app="soup",
            generation=1,
            directory=str(router),
            services={"www": (8080, [5001])},
            forwarder="127.0.0.1",
        )
    )
    result = subprocess.run(
        [nginx_binary, "-t", "-q", "-c", str(router / "nginx.conf"), "-e", str(tmp_path / "e.log")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
