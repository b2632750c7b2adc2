"""Where instances run: processes, namespaces, the app's network, the router."""
