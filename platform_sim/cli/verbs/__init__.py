"""The command line's verbs, one method each, grouped by what they act on; ``cli`` dispatches."""

from __future__ import annotations

from platform_sim.cli.verbs.application import ApplicationVerbs
from platform_sim.cli.verbs.artefacts import ArtefactVerbs
from platform_sim.cli.verbs.base import Verbs, app_name
from platform_sim.cli.verbs.operations import OperationVerbs
from platform_sim.cli.verbs.settings import SettingVerbs

__all__ = ["Commands", "Verbs", "app_name"]


class Commands(ApplicationVerbs, OperationVerbs, SettingVerbs, ArtefactVerbs):
    """One method per command; each calls the library and prints its result."""
