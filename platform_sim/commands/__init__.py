"""The command line's verbs, one method each, grouped by what they act on; ``cli`` dispatches."""

from __future__ import annotations

from .application import ApplicationVerbs
from .artefacts import ArtefactVerbs
from .base import Verbs, app_name
from .operations import OperationVerbs
from .settings import SettingVerbs

__all__ = ["Commands", "Verbs", "app_name"]


class Commands(ApplicationVerbs, OperationVerbs, SettingVerbs, ArtefactVerbs):
    """One method per command; each calls the library and prints its result."""
