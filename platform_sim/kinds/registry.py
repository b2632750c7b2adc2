"""The data-service kinds platform_sim runs, by type name: every other part asks here."""

from __future__ import annotations

from platform_sim.kinds import postgresql, rabbitmq
from platform_sim.kinds.base import DOTCLOUD_TAGS, Kind

KINDS: dict[str, Kind] = {kind.name: kind for kind in (postgresql.KIND, rabbitmq.KIND)}


def kind(name: str) -> Kind:
    """The kind called ``name`` (KeyError for one platform_sim does not run)."""
    return KINDS[name]


def by_tag(tag: str) -> Kind | None:
    """The kind whose variables carry ``tag`` (``SQL``), None for a type platform_sim cannot run."""
    return next((k for k in KINDS.values() if k.tag == tag), None)


def known_tags() -> tuple[str, ...]:
    """The tags of every type the platform knew (``DOTCLOUD_<SVC>_<TAG>_*``), run here or not."""
    return tuple(dict.fromkeys(tag for tag, _ in DOTCLOUD_TAGS.values()))
