"""The fault bench's one exception, apart so that its scenario modules can raise it too."""


class BenchError(Exception):
    """The bench cannot go on (a push failed, the app does not come back…)."""
