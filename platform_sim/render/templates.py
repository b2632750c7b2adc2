"""Configuration templates (supervisord, instance nginx, router nginx) and their renderer."""

from __future__ import annotations

import re
from collections.abc import Mapping

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def render(template: str, values: Mapping[str, object]) -> str:
    """Replace every ``{{ name }}`` of ``template``; a name without a value is a KeyError."""
    return _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), template)


SUPERVISORD_MAIN = """\
; Written by platform_sim for {{ instance }} of application {{ app }} (deploy {{ generation }}).
; supervisord runs in the instance's own namespaces, where ~ is {{ home }} and
; /var/log/supervisor is the instance's log folder. Regenerated at every deploy: do not edit.

[supervisord]
nodaemon = true
logfile = /var/log/supervisor/supervisord.log
logfile_maxbytes = 10MB
logfile_backups = 2
pidfile = {{ home }}/platform/supervisord.pid
childlogdir = /var/log/supervisor
directory = {{ home }}
identifier = {{ identifier }}

[inet_http_server]
port = {{ address }}:{{ control_port }}
username = platform
password = {{ control_password }}

[supervisorctl]
serverurl = http://{{ address }}:{{ control_port }}
username = platform
password = {{ control_password }}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
{{ programs }}
[include]
files = {{ home }}/current/supervisord.conf
"""

PROGRAM = """
[program:{{ name }}]
command = {{ command }}
directory = {{ directory }}
autostart = true
autorestart = true
startsecs = {{ startsecs }}
stopsignal = {{ stopsignal }}
stopwaitsecs = 10
stopasgroup = true
killasgroup = true
stdout_logfile = /var/log/supervisor/%(program_name)s.log
stderr_logfile = /var/log/supervisor/%(program_name)s_error.log
"""

WATCHDOG = """
[eventlistener:{{ name }}]
command = {{ command }}
directory = /
events = PROCESS_STATE_FATAL
autostart = true
autorestart = true
stderr_logfile = /var/log/supervisor/%(program_name)s.log
"""

INSTANCE_NGINX = """\
# Written by platform_sim for {{ instance }} of application {{ app }} (deploy {{ generation }}).
# nginx runs under the instance's supervisord, in its namespaces (~ is {{ home }}).
daemon off;
master_process on;
worker_processes 1;
{{ user }}pid {{ home }}/platform/nginx.pid;
error_log /var/log/nginx/error.log;

events {
    worker_connections 512;
}

http {
{{ mime_types }}    default_type application/octet-stream;
    server_tokens off;  # "Server: nginx", no version, on every response and error page
    # The combined format, and how long each request took (in all, and in the application).
    log_format timed '$remote_addr - $remote_user [$time_local] "$request" $status '
                     '$body_bytes_sent "$http_referer" "$http_user_agent" '
                     'request_time=$request_time upstream_time=$upstream_response_time';
    access_log /var/log/nginx/access.log timed;
    sendfile on;
    client_max_body_size 32m;
    client_body_temp_path {{ home }}/platform/nginx/client_body;
    proxy_temp_path {{ home }}/platform/nginx/proxy;
    fastcgi_temp_path {{ home }}/platform/nginx/fastcgi;
    uwsgi_temp_path {{ home }}/platform/nginx/uwsgi;
    scgi_temp_path {{ home }}/platform/nginx/scgi;
    # The scheme the client used: what the proxy in front says (X-Forwarded-Proto), believed
    # from its addresses only; from anyone else (and with no proxy in front) this server's own.
    geo $from_our_proxy {
        default 0;
{{ proxies }}    }
    map "$from_our_proxy:$http_x_forwarded_proto" $forwarded_proto {
        default $scheme;
        "1:http" http;
        "1:https" https;
    }

    upstream wsgi_server {
        server unix:{{ home }}/platform/wsgi.sock fail_timeout=0;
    }

    server {
        listen {{ address }}:{{ port }};
        server_name _;

        if (-f {{ home }}/current/maintenance) {
            return 503;
        }

        # The application's own rules (static files...), as on the platform.
        include {{ home }}/current/*nginx.conf;

        location / {
            include {{ home }}/current/*uwsgi.conf;
            proxy_pass http://wsgi_server;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $forwarded_proto;
            proxy_redirect off;
        }
    }
}
"""

ROUTER_NGINX = """\
# Written by platform_sim: the front router of application {{ app }} (deploy {{ generation }}).
# Replaced atomically and reloaded (SIGHUP) when a deploy switches traffic.
daemon off;
master_process on;
worker_processes 1;
user root;
pid {{ directory }}/nginx.pid;
error_log {{ directory }}/error.log;

events {
    worker_connections 1024;
}

http {
    server_tokens off;  # "Server: nginx", no version, on every response and error page
    # Which instance answered and how long it took: what to read when a request was slow.
    log_format routed '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                      'upstream=$upstream_addr upstream_status=$upstream_status '
                      'upstream_time=$upstream_response_time request_time=$request_time';
    access_log {{ directory }}/access.log routed;
    client_max_body_size 32m;
    client_body_temp_path {{ directory }}/tmp/client_body;
    proxy_temp_path {{ directory }}/tmp/proxy;
    fastcgi_temp_path {{ directory }}/tmp/fastcgi;
    uwsgi_temp_path {{ directory }}/tmp/uwsgi;
    scgi_temp_path {{ directory }}/tmp/scgi;
{{ servers }}}
"""

ROUTER_SERVER = """
    # {{ service }}: round-robin over its instances.
    upstream app_{{ service }} {
{{ upstreams }}    }

    server {
        listen {{ address }}:{{ port }}{{ proxy_protocol }};
        server_name _;
{{ real_ip }}
        location / {
            proxy_pass http://app_{{ service }};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # the outermost proxy: the scheme is its own, whatever a client claims
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_redirect off;
            proxy_connect_timeout 5s;  # an instance on the bridge answers in milliseconds
            proxy_next_upstream error timeout http_502;
        }
    }
"""
