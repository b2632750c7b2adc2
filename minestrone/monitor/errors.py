"""The monitor's exceptions."""


class StoreUnavailable(Exception):
    """The database cannot take a write now; try again later."""
