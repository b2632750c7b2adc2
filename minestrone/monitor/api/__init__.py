"""The monitor's HTTP API under /api/: Flower's endpoints, read from the database, with tokens."""
