"""Management commands of the monitor."""
