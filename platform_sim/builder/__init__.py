"""Upload a revision and build its code services, one step at a time."""
