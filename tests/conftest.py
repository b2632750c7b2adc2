"""Test-suite plugins: real backing services (PostgreSQL, RabbitMQ) as fixtures."""

pytest_plugins = ["backing_services.pytest_plugin"]
