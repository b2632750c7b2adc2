"""Management commands of the deployment app."""
