"""Property tests: no secret survives a masked remote-control reply, whatever its characters."""

from types import SimpleNamespace
from urllib.parse import quote, quote_plus

from celery import Celery
from hypothesis import example, given, settings
from hypothesis import strategies as st

from minestrone import remote_control
from tests.unit.test_remote_control import stats_state

# Any text but a run of stars, which is what the mask itself is made of.
secrets = st.text(min_size=1, max_size=40).filter(lambda text: text.strip("*"))


def strings_of(value: object):
    """Every string a reply holds, keys included."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings_of(key)
            yield from strings_of(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_of(item)
    elif isinstance(value, str):
        yield value


def in_url(secret: str) -> str:
    """``secret`` as a URL's password: percent-encoded, except a raw ``@`` as users write it."""
    return quote(secret, safe="@")


def libpq_quoted(secret: str) -> str:
    """``secret`` as a libpq connection string's quoted value."""
    return "'" + secret.replace("\\", "\\\\").replace("'", "\\'") + "'"


def conf_app(secret: str) -> Celery:
    """A Celery app whose settings hold ``secret`` in every place a deployment might put it."""

    class Settings:
        SECRET_KEY = secret
        SECRET_KEY_FALLBACKS = [secret + "old"]
        DATABASES = {"default": {"PASSWORD": secret, "HOST": "db"}}
        CELERY_BROKER_URL = f"amqp://u:{in_url(secret)}@h1//;amqp://v:{in_url(secret)}@h2//"
        CELERY_RESULT_BACKEND = f"db+postgresql://u:{in_url(secret)}@db/x"
        CELERY_PLATFORM = f"Settings(password={secret!r}, other={[secret]!r})"
        CELERY_ROUTES = {secret: {"queue": secret}}

    celery = Celery("fuzz", set_as_current=False)
    celery.config_from_object(Settings, namespace="CELERY")
    return celery


@settings(max_examples=50, deadline=None)  # a bug report reads the platform: slow under load
@given(secrets)
@example("p@ss;w/rd")
@example("ab")
@example("o")
@example("\u2028 '\"\\")
def test_conf_and_report_hold_no_secret(secret):
    state = SimpleNamespace(app=conf_app(secret))
    # the report's envelope key ``ok`` is Celery's protocol word, not configuration: its text is
    # checked, so a one-letter secret such as "o" does not fail on the envelope
    replies = [remote_control.conf(state, with_defaults=True), remote_control.report(state)["ok"]]
    for text in strings_of(replies):
        assert secret not in text


@given(secrets, secrets)
@example("sec@nd", "a;b")
def test_stats_reply_holds_no_broker_password(first, second):
    url = f"amqp://a:{in_url(first)}@h1//;amqp://b:{in_url(second)}@h2//"
    for text in strings_of(remote_control.stats(stats_state(url))):
        assert first not in text and second not in text


@given(secrets)
def test_unknown_credentials_are_masked_by_shape_whatever_they_hold(secret):
    # No secret known: what is masked cannot depend on the password's value at all.
    templates = [
        "broker: amqp://user:{}@broker:5672//",
        "amqp://a:{}@h1//;amqp://b:{}@h2//",
        "host=db password={} dbname=x",
        "postgres://db/x?user=u&password={}&sslmode=require",
    ]
    forms = [in_url, in_url, libpq_quoted, quote_plus]
    for template, form in zip(templates, forms, strict=True):
        masked = remote_control.scrub_text(template.format(*[form(secret)] * 2), ())
        assert masked == remote_control.scrub_text(template.format(*[form("x")] * 2), ())
