"""``export kubernetes``: the objects of an application's manifests, one module per concern."""
