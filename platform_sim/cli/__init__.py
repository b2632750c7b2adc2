"""The command line: the argument parser and one verb per command."""
