"""The workers' `conf` and `report` remote-control replies hold no secret."""

import json
from types import SimpleNamespace

import pytest
from celery import Celery
from celery.worker.control import Panel
from django.conf import settings as django_settings
from kombu import Connection

from minestrone import remote_control
from minestrone.celery_app import app

BROKER_PASSWORD = "br0ker-pa55word-zz"
DB_PASSWORD = "db-pa55word-qq"
SECRET_KEY = "django-secret-key-" + "k" * 40


class FakeSettings:
    """Django-like settings holding one of each secret."""

    SECRET_KEY = SECRET_KEY
    SECRET_KEY_FALLBACKS = ["old-secret-key-123"]
    DATABASES = {"default": {"PASSWORD": DB_PASSWORD}}
    CELERY_BROKER_URL = f"amqp://user:{BROKER_PASSWORD}@broker:5672//"
    CELERY_RESULT_BACKEND = None


def conf_of(settings_class) -> dict:
    """The configuration a Celery app reads from settings_class under the CELERY namespace."""
    celery = Celery("secrets", set_as_current=False)
    celery.config_from_object(settings_class, namespace="CELERY")
    return celery.conf


def test_deployment_secrets_lists_every_credential():
    found = remote_control.deployment_secrets(conf_of(FakeSettings))
    assert found == {SECRET_KEY, "old-secret-key-123", DB_PASSWORD, BROKER_PASSWORD}


def test_deployment_secrets_reads_failover_broker_lists():
    class Failover(FakeSettings):
        CELERY_BROKER_URL = "amqp://a:first-pass@h1//;amqp://b:second-pass@h2//"

    assert {"first-pass", "second-pass"} <= remote_control.deployment_secrets(conf_of(Failover))


def test_empty_values_are_not_treated_as_secrets():
    class Dev(FakeSettings):
        DATABASES = {"default": {"PASSWORD": ""}}

    assert "" not in remote_control.deployment_secrets(conf_of(Dev))


def test_a_short_secret_is_masked_too():
    class Short(FakeSettings):
        DATABASES = {"default": {"PASSWORD": "pw9"}}

    secrets = remote_control.deployment_secrets(conf_of(Short))
    assert "pw9" in secrets
    reply = remote_control.censor({"PLATFORM": "Settings(db='pw9')"}, secrets)
    assert reply == {"PLATFORM": "Settings(db='********')"}


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("amqp://user:p@ss@broker//", "amqp://********@broker//"),
        ("amqp://a:one@h1//;amqp://b:two@h2//", "amqp://********@h1//;amqp://********@h2//"),
        ("amqp://a:one@h1;amqp://b:two@h2", "amqp://********@h1;amqp://********@h2"),
        ("redis://:token@cache:6379/0", "redis://********@cache:6379/0"),
        (
            "host=db user=app password=s3cret dbname=x",
            "host=db user=app password=******** dbname=x",
        ),
        ("host=db password='it\\'s me' port=5", "host=db password=******** port=5"),
        (
            "postgres://db/x?sslmode=require&password=s3cret&a=1",
            "postgres://db/x?sslmode=require&password=********&a=1",
        ),
        ("https://site/?access_token=abc", "https://site/?access_token=********"),
    ],
)
def test_credentials_are_masked_by_their_shape(text, masked):
    assert remote_control.scrub_text(text, ()) == masked


def test_dictionary_keys_are_masked():
    reply = remote_control.censor(
        {"amqp://u:hunter22@h//": 1, f"key-{SECRET_KEY}": {"x": 2}, ("t", SECRET_KEY): 3},
        {SECRET_KEY},
    )
    text = json.dumps(reply)
    assert "hunter22" not in text and SECRET_KEY not in text
    assert reply["amqp://********@h//"] == 1


def broker_stats(broker_url: str) -> dict:
    """A worker's stats reply as Celery builds it, the broker's connection info unsanitized."""
    info = Connection(broker_url).info()
    info.pop("password")
    return {"broker": info, "pid": 7, "total": {"soup.tasks.add": 3}}


def test_stats_reply_masks_failover_broker_urls():
    url = "amqp://a:first-pass@h1//;amqp://b:sec@nd-pass@h2//"
    state = stats_state(url)
    reply = remote_control.stats(state)
    text = json.dumps(reply)
    assert "first-pass" not in text and "nd-pass" not in text
    assert reply["broker"]["alternates"] == ["amqp://********@h1//", "amqp://********@h2//"]
    assert reply["total"] == {"soup.tasks.add": 3}


def stats_state(broker_url: str) -> SimpleNamespace:
    """The state a worker hands its remote-control commands, for an app on ``broker_url``."""
    celery = Celery("secrets", set_as_current=False)
    celery.conf.broker_url = broker_url
    controller = SimpleNamespace(stats=lambda: broker_stats(broker_url))
    return SimpleNamespace(app=celery, consumer=SimpleNamespace(controller=controller))


@pytest.mark.parametrize(
    "key",
    ["CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "BROKER_URL", "SENTRY_DSN_URL"],
)
def test_url_settings_keep_their_host_but_lose_the_password(key):
    reply = remote_control.censor({key: "amqp://user:hunter22@broker:5672/vh"}, ())
    assert reply == {key: "amqp://********@broker:5672/vh"}


@pytest.mark.parametrize(
    "key",
    ["EMAIL_HOST_PASSWORD", "MONITOR_METRICS_TOKEN", "AWS_SECRET_ACCESS_KEY", "API_CREDENTIALS"],
)
def test_secret_settings_are_masked_by_name(key):
    assert remote_control.censor({key: "anything"}, ()) == {key: "********"}


def test_secret_values_are_masked_wherever_they_hide():
    secrets = {BROKER_PASSWORD, SECRET_KEY}
    reply = remote_control.censor(
        {
            "PLATFORM": f"Settings(key='{SECRET_KEY}', password='{BROKER_PASSWORD}')",
            "NESTED": {"deep": [f"x{BROKER_PASSWORD}y", 3, None, True]},
            "OBJECT": SimpleNamespace(value=SECRET_KEY),
        },
        secrets,
    )
    text = json.dumps(reply)
    assert BROKER_PASSWORD not in text and SECRET_KEY not in text
    assert reply["NESTED"]["deep"][1:] == [3, None, True]


def test_ordinary_settings_pass_unchanged():
    reply = remote_control.censor({"CELERY_TASK_ACKS_LATE": True, "TIME_ZONE": "UTC"}, {"hunter22"})
    assert reply == {"CELERY_TASK_ACKS_LATE": True, "TIME_ZONE": "UTC"}


def test_the_worker_commands_are_ours():
    assert Panel.data["conf"] is remote_control.conf
    assert Panel.data["dump_conf"] is remote_control.conf
    assert Panel.data["report"] is remote_control.report
    assert Panel.data["stats"] is remote_control.stats


@pytest.fixture
def secret_app():
    """A Celery app configured, like the project's, from Django-style settings with secrets."""
    secret_app = Celery("secrets", set_as_current=False)
    secret_app.config_from_object(FakeSettings, namespace="CELERY")
    return secret_app


def test_conf_reply_holds_no_secret(secret_app):
    state = SimpleNamespace(app=secret_app)
    for with_defaults in (False, True):
        text = json.dumps(remote_control.conf(state, with_defaults=with_defaults))
        for secret in (SECRET_KEY, DB_PASSWORD, BROKER_PASSWORD):
            assert secret not in text
    assert "amqp://********@broker" in text


def test_the_settings_expose_no_platform_object():
    assert not hasattr(django_settings, "PLATFORM")
    reply = remote_control.conf(SimpleNamespace(app=app))
    assert not any("PlatformSettings" in str(value) for value in reply.values())


def test_report_reply_holds_no_secret():
    class QuietApp:
        def bugreport(self):
            url = f"amqp://user:{BROKER_PASSWORD}@b//"
            return f"broker_url: {url}\nkey: {SECRET_KEY}\n{DB_PASSWORD}"

        conf = Celery("secrets", set_as_current=False).conf

    quiet = QuietApp()
    quiet.conf.update(SECRET_KEY=SECRET_KEY, DATABASES=FakeSettings.DATABASES)
    quiet.conf.broker_url = FakeSettings.CELERY_BROKER_URL
    text = remote_control.report(SimpleNamespace(app=quiet))["ok"]
    for secret in (SECRET_KEY, DB_PASSWORD, BROKER_PASSWORD):
        assert secret not in text
