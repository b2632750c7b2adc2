"""platform_sim: the dotCloud platform reproduced on one machine, to push and verify apps."""

__version__ = "0.1.0"
