"""Data-service kinds: what each is, written once, asked by all (``registry.KINDS``)."""
