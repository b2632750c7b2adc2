"""``kube-play``: an ``export kubernetes`` folder run by Podman on this machine, and torn down."""
