"""Data services (PostgreSQL, RabbitMQ, add-ons): their kinds, hosts and credentials."""
