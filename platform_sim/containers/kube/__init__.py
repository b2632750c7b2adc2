"""Export an application's build file as Kubernetes manifests (``export kubernetes``)."""
