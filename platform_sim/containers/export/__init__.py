"""Exports: the app as files another tool runs, one module per format over one interface."""
