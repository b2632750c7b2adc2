"""Faults injected into a running application, always undone."""
