"""Data-service kinds (PostgreSQL, RabbitMQ): what each is, written once, asked by all."""
