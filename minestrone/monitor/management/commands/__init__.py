"""The tutorial's `celeryd` and `celerycam` commands."""
