"""Celery's remote-control replies that show configuration (conf, report), with no secret in them.

Celery masks ``SECRET_KEY`` and ``DATABASES`` in a worker's ``conf`` reply, but not a broker URL
stored under the ``CELERY_`` namespace nor credentials inside other settings. Anyone who can
publish to the broker can ask a worker for these replies (``celery inspect conf``, Flower's
Config tab), so importing this module replaces the two commands with versions that mask every
credential: by setting name, every URL's password, and every known secret value wherever it
appears.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from celery.app.utils import filter_hidden_settings
from celery.utils.serialization import jsonify, strtobool
from celery.worker.control import inspect_command, ok
from kombu.utils.encoding import safe_repr
from kombu.utils.url import url_to_parts

MASK = "********"
SECRET_SETTING = re.compile(
    r"API|TOKEN|KEY|SECRET|PASS|SIGNATURE|CREDENTIAL|AUTH|DATABASE|DBURI", re.IGNORECASE
)
URL_SETTING = re.compile(r"BROKER.*URL|BACKEND|_URL$|_URI$", re.IGNORECASE)
URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@")
SHORTEST_SECRET = 4


def deployment_secrets(conf: Mapping) -> set[str]:
    """Every secret value a Celery app's configuration holds: secret keys, passwords in URLs."""
    found: set[str] = {conf.get("SECRET_KEY") or ""}
    found.update(conf.get("SECRET_KEY_FALLBACKS") or ())
    for database in (conf.get("DATABASES") or {}).values():
        found.add(str(database.get("PASSWORD") or ""))
    for name in ("broker_url", "result_backend"):
        found.update(_url_passwords(getattr(conf, name, None)))
    return {value for value in found if isinstance(value, str) and len(value) >= SHORTEST_SECRET}


def _url_passwords(urls: object) -> Iterable[str]:
    """The passwords of a URL, a ``;``-separated list of URLs, or a list of them."""
    if isinstance(urls, str):
        urls = urls.split(";")
    if not isinstance(urls, list | tuple):
        return ()
    passwords = []
    for url in urls:
        if isinstance(url, str) and "://" in url:
            password = url_to_parts(url).password
            if password:
                passwords.append(password)
    return passwords


def scrub_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every URL password and every secret value in ``text`` by the mask."""
    text = URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def censor(value: object, secrets: Iterable[str], key: str | None = None) -> object:
    """``value`` with secret settings masked by name, URLs by password, secrets by value."""
    secrets = tuple(secrets)
    if isinstance(value, Mapping):
        return {k: censor(v, secrets, k if isinstance(k, str) else None) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [censor(item, secrets, key) for item in value]
    if key is not None and SECRET_SETTING.search(key) and not URL_SETTING.search(key):
        return MASK
    if isinstance(value, str):  # lazy strings too: they pass isinstance as str
        return scrub_text(str(value), secrets)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return scrub_text(safe_repr(value), secrets)


@inspect_command(
    alias="dump_conf",
    signature="[include_defaults=False]",
    args=[("with_defaults", strtobool)],
)
def conf(state, with_defaults=False, **kwargs):
    """List configuration, every credential masked."""
    table = filter_hidden_settings(state.app.conf.table(with_defaults=with_defaults))
    reply = jsonify(
        table,
        keyfilter=lambda key: isinstance(key, str) and not key.startswith("__"),
        unknown_type_filter=safe_repr,
    )
    return censor(reply, deployment_secrets(state.app.conf))


@inspect_command()
def report(state):
    """Information about the Celery installation for bug reports, every credential masked."""
    return ok(scrub_text(state.app.bugreport(), deployment_secrets(state.app.conf)))
