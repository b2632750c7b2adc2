"""Celery's remote-control replies that show configuration (conf, report, stats), with no secret.

Celery masks ``SECRET_KEY`` and ``DATABASES`` in a worker's ``conf`` reply, but not a broker URL
stored under the ``CELERY_`` namespace nor credentials inside other settings, and its ``stats``
reply shows failover broker URLs through a parser that a raw ``@`` in a password defeats. Anyone
who can publish to the broker can ask a worker for these replies (``celery inspect conf``,
Flower's Config tab), so importing this module replaces the three commands with versions that
mask every credential: secret settings by name, the whole user-info of every URL, every
``password=`` parameter, and every known secret value wherever it appears, keys included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

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
# Everything between "scheme://" and the last "@" before the host ends: user, password, any "@".
URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@")
# A password given as a parameter: libpq DSNs ("password='x'"), query strings ("?password=x").
PASSWORD_PARAMETER = re.compile(
    r"""([A-Za-z0-9_.-]*(?:pass|pwd|secret|token|credential)[A-Za-z0-9_.-]*\s*=\s*)"""
    r"""('(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|[^\s&;'"]*)""",
    re.IGNORECASE,
)


def deployment_secrets(conf: Mapping) -> set[str]:
    """Every secret value a Celery app's configuration holds: secret keys, passwords in URLs."""
    found: set[str] = {conf.get("SECRET_KEY") or ""}
    found.update(conf.get("SECRET_KEY_FALLBACKS") or ())
    for database in (conf.get("DATABASES") or {}).values():
        found.add(str(database.get("PASSWORD") or ""))
    for name in ("broker_url", "result_backend"):
        found.update(_url_passwords(getattr(conf, name, None)))
    return {value for value in found if isinstance(value, str) and value}


def _url_passwords(urls: object) -> Iterable[str]:
    """The passwords of a URL, a ``;``-separated list of URLs, or a list of them."""
    if isinstance(urls, str):
        urls = urls.split(";")
    if not isinstance(urls, list | tuple):
        return ()
    passwords = []
    for url in urls:
        if isinstance(url, str) and "://" in url:
            try:
                password = url_to_parts(url).password
            except ValueError:  # a port that is no number: the user-info mask still covers it
                continue
            if password:
                passwords.append(password)
    return passwords


def _written_forms(secret: str) -> set[str]:
    """The ways a reply may spell ``secret``: as is, escaped by repr or JSON, percent-encoded."""
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]}
    forms.update({quote(secret, safe=""), quote_plus(secret, safe="")})
    return {form for form in forms if form.strip("*")}  # a run of stars is what the mask is


def scrub_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every known secret, URL user-info and password parameter in ``text`` by the mask."""
    forms = sorted(set().union(*(_written_forms(secret) for secret in secrets)), key=len)[::-1]
    text = _mask_values(text, forms)
    text = URL_USERINFO.sub(rf"\g<1>{MASK}@", text)
    text = PASSWORD_PARAMETER.sub(rf"\g<1>{MASK}", text)
    return _mask_values(text, forms)  # a mask put next to text can spell a secret anew


def _mask_values(text: str, forms: Iterable[str]) -> str:
    """``text`` with each of ``forms`` (longest first) replaced by the mask until none is left."""
    forms = tuple(forms)
    # Each pass turns characters other than stars into stars, so the loop ends; it loops because
    # a mask joined to what follows a replaced form can spell a form again.
    while hit := next((form for form in forms if form in text), None):
        text = text.replace(hit, MASK)
    return text


def censor(value: object, secrets: Iterable[str], key: str | None = None) -> object:
    """``value`` with secret settings masked by name, and secrets masked in keys and text."""
    secrets = tuple(secrets)
    if isinstance(value, Mapping):
        return {
            _censor_key(k, secrets): censor(v, secrets, k if isinstance(k, str) else None)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [censor(item, secrets, key) for item in value]
    if key is not None and SECRET_SETTING.search(key) and not URL_SETTING.search(key):
        return MASK
    if isinstance(value, str):  # lazy strings too: they pass isinstance as str
        return scrub_text(str(value), secrets)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return scrub_text(safe_repr(value), secrets)


def _censor_key(key: object, secrets: Iterable[str]) -> object:
    """A mapping's key with every secret masked; still hashable."""
    if isinstance(key, int | float | bool) or key is None:
        return key
    return scrub_text(key if isinstance(key, str) else safe_repr(key), secrets)


def _settings_lines(reply: Mapping) -> str:
    """Censored settings as ``name: value`` lines, one each (never wrapped inside a secret)."""
    return "\n".join(f"{name}: {value!r}" for name, value in reply.items())


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
    secrets = deployment_secrets(state.app.conf)
    text = state.app.bugreport()
    # Celery wraps long values across lines, which would split a secret past the mask's reach.
    text = text.replace(state.app.conf.humanize(), _settings_lines(conf(state)))
    return ok(scrub_text(text, secrets))


@inspect_command()
def stats(state, **kwargs):
    """Worker statistics, the broker's failover URLs (``broker.alternates``) masked."""
    return censor(state.consumer.controller.stats(), deployment_secrets(state.app.conf))
