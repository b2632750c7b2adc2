"""Django and Celery settings of minestrone, read from the platform's environment file."""

from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF

from minestrone import delivery, platform_env, queues

BASE_DIR = Path(__file__).resolve().parent
REPOSITORY_ROOT = BASE_DIR.parent

# Lower case, so it is no setting: Django and Celery never list it (it holds every credential).
_platform = platform_env.load(BASE_DIR)

SECRET_KEY = _platform.secret_key
DEBUG = _platform.debug
ALLOWED_HOSTS = _platform.allowed_hosts
DATABASES = {"default": _platform.database}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",  # the live pages: request.htmx, and htmx itself as a static file
    "minestrone.deployment",
    "minestrone.soup",
    "minestrone.monitor",
    "minestrone.throttle",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "minestrone.nul_guard.RefuseNulMiddleware",
    "minestrone.deployment.unavailable.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "minestrone.urls"
WSGI_APPLICATION = "minestrone.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# nginx serves these two folders (see nginx.conf); postinstall runs collectstatic into the first.
STATIC_URL = "/static/"
STATIC_ROOT = REPOSITORY_ROOT / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = _platform.media_root

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

# --- Celery (read by minestrone/celery_app.py under the CELERY_ namespace) -----------------------

CELERY_BROKER_URL = _platform.broker_url
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = delivery.CONNECT_SECONDS
# What a publish and an unacknowledged job come to on each kind of broker: minestrone/delivery.py.
CELERY_BROKER_TRANSPORT_OPTIONS = delivery.transport_options(
    CELERY_BROKER_URL, _platform.lazy_job_seconds
)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}

# The tutorial's routing: the topic exchange `default`, one durable queue bound to it with
# `tasks.#`, so any routing key `tasks.<anything>` lands in it. On RabbitMQ the queue is a quorum
# queue `default.quorum`: a job delivered MINESTRONE_DELIVERY_LIMIT times more than once (5 by
# default) goes to the dead-letter queue the monitor shows; on Redis it stays the tutorial's
# `default` (minestrone/queues.py).
DEFAULT_EXCHANGE = queues.exchange()
MINESTRONE_DELIVERY_LIMIT = _platform.delivery_limit
CELERY_TASK_QUEUES = queues.task_queues(CELERY_BROKER_URL, MINESTRONE_DELIVERY_LIMIT)
CELERY_TASK_DEFAULT_QUEUE = queues.default_queue_name(CELERY_BROKER_URL)
# Quorum queues have no global QoS: the worker sees that and sets prefetch per consumer; a
# countdown or ETA then goes through RabbitMQ's delayed-delivery exchanges (Celery ≥ 5.5).
CELERY_WORKER_DETECT_QUORUM_QUEUES = True
CELERY_TASK_DEFAULT_EXCHANGE = "default"
CELERY_TASK_DEFAULT_EXCHANGE_TYPE = "topic"
CELERY_TASK_DEFAULT_ROUTING_KEY = "tasks.default"
CELERY_TASK_DEFAULT_DELIVERY_MODE = "persistent"

# Results are ignored, as in the tutorial; the monitor records outcomes from events instead.
CELERY_TASK_IGNORE_RESULT = True
# No results are stored; this backend only answers "unknown" when a revoke asks for a state,
# where Celery's disabled backend makes the worker warn "No result backend is configured".
CELERY_RESULT_BACKEND = "minestrone.monitor.backend:NoResultBackend"

# Events for the monitor: workers send them (the `-E` switch, on by default here too) and
# clients send task-sent events, which carry name, arguments, exchange and routing key.
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True

# Lose no task when a worker dies mid-job: acknowledge after the task ran, give the message back
# when the pool process running it is killed, and fetch one message at a time per process.
# Tasks must therefore be idempotent (lazy_job is).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True

# --- minestrone --------------------------------------------------------------------------------

# How long soup.tasks.lazy_job sleeps, in seconds: the tutorial's 5 s unless the environment
# sets SOUP_LAZY_JOB_SECONDS (tests shorten it).
SOUP_LAZY_JOB_SECONDS = _platform.lazy_job_seconds
# The longest the active-tasks page waits for the workers' replies, in seconds.
SOUP_INSPECT_TIMEOUT = 1.0
# Jobs an anonymous client (its address; an IPv6 client's /64) may queue, as Celery writes
# rates (30/m, 200/h; 0: no limit): beyond, HTTP 429 with Retry-After. The environment's
# SOUP_ANONYMOUS_JOB_RATE sets it.
SOUP_ANONYMOUS_JOB_RATE = _platform.anonymous_job_rate

# --- monitor (minestrone/monitor: the camera's tables and the admin's Tasks and Workers) -------

# Every MONITOR_* setting, with its default and what it means, is in minestrone/monitor/conf.py
# (DEFAULTS); set one here only to differ from it (expiry days, cleanup interval, camera
# frequency, remote-control timeout, idle notice...).

# The cleanup (every MONITOR_CLEANUP_INTERVAL) also deletes expired sessions and the
# throttle's spent counts (jobs, API requests).
MONITOR_CLEANUP_CALLS = [
    "minestrone.sessions.clear_expired",
    "minestrone.throttle.limits.forget_before",
]
# RabbitMQ's management API (base URL, read with the broker's own login) for the queues'
# unacknowledged counts; None: AMQP passive declares (ready and consumers only).
MONITOR_BROKER_API_URL = _platform.broker_api_url

# --- security: login throttling, HTTPS behind the platform's front end, response headers -------

# django-axes: after AXES_FAILURE_LIMIT wrong passwords for one user from one address (an IPv6
# client: from any address of its /64), that pair is refused (HTTP 429) for AXES_COOLOFF_TIME;
# attempts and lockouts are in the admin and logged; `mkadmin.py --unlock` lifts them.
INSTALLED_APPS += ["axes"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
MIDDLEWARE += ["csp.middleware.CSPMiddleware", "axes.middleware.AxesMiddleware"]  # axes last
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # a plain string (axes' default is a lazy object)
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no banner at every start; lockouts are still logged
AXES_CLIENT_IP_CALLABLE = "minestrone.security.client_network"
MINESTRONE_TRUSTED_PROXIES = _platform.trusted_proxies

# DJANGO_BEHIND_HTTPS=1: the front end terminates TLS and says so in X-Forwarded-Proto. Then
# cookies are Secure, plain HTTP is redirected and HSTS is sent; `check --deploy` is clean.
BEHIND_HTTPS = _platform.behind_https
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_HTTPS else None
SECURE_SSL_REDIRECT = BEHIND_HTTPS
SESSION_COOKIE_SECURE = BEHIND_HTTPS
CSRF_COOKIE_SECURE = BEHIND_HTTPS
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if BEHIND_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = BEHIND_HTTPS
SECURE_HSTS_PRELOAD = BEHIND_HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# django-csp: the site's own pages load nothing from elsewhere and run no inline code or inline
# style (htmx's own indicator style is switched off in base.html). The admin keeps Django's
# defaults.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
