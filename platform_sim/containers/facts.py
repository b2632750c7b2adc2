"""Facts every container form shares (images, export compose, export kubernetes): one home."""

# nginx inside a web service's container listens here (the image EXPOSEs it, Compose publishes
# it, the Kubernetes Service targets it).
WEB_PORT = 8080

# Seconds a code service's container gets to stop before it is killed. supervisord stops its
# programs one after another: djcelery's warm shutdown (stopwaitsecs 60, running jobs finish),
# then celerycam (30), then platform-logs (10) — 100 s at worst, with room to spare.
CODE_STOP_GRACE = 120

# The account a code service's programs run as in a container: the image creates it and owns
# the home, the code and the log folders to it; a Compose service (exported as root) and a
# Kubernetes pod run as it from the start, their secrets given to it; a container started as
# root (`podman run`, an export not run as root) reads its root-only secrets, then the
# entrypoint drops to it before running any of the app's code.
CODE_USER = "dotcloud"
CODE_UID = 10001

# Where a container finds its mounted secrets: a code service's environment.json (or .yml),
# which the entrypoint writes to ~/environment.json for the account above; a data service's
# password files (``*_FILE``).
SECRETS_INSIDE = "/run/secrets"

# A code container's confinement in every export: it runs as the account above from the start,
# with no capability at all and no new privileges (Compose's keys, a Kubernetes pod's context).
DROPPED_CAPABILITIES = ("ALL",)

# Where a code image keeps what is root's and not the app's: the platform's own package (the
# entrypoint runs it with the system's Python, isolated) and the app's virtualenv (~/env links
# to it: the home holds the code alone, and Compose's tmpfs over it copies no virtualenv).
PLATFORM_INSIDE = "/opt/minestrone-platform"
VENV_INSIDE = "/opt/minestrone-env"
SYSTEM_PYTHON = "/usr/bin/python3"
