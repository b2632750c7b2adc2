"""Day-two operations on a running app: info, status, logs, run, restart, scale, variables."""
