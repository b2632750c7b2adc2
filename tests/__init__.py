"""The test suite of minestrone."""
