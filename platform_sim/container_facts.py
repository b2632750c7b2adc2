"""Facts every container form shares (images, export compose, export kubernetes): one home."""

# nginx inside a web service's container listens here (the image EXPOSEs it, Compose publishes
# it, the Kubernetes Service targets it).
WEB_PORT = 8080

# Seconds a code service's container gets to stop before it is killed. supervisord stops its
# programs one after another: djcelery's warm shutdown (stopwaitsecs 60, running jobs finish),
# then celerycam (30), then platform-logs (10) — 100 s at worst, with room to spare.
CODE_STOP_GRACE = 120
