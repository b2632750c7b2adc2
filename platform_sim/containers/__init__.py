"""Off the simulator: OCI images, the container entrypoint, Compose and Kubernetes."""
