"""Deployment chores run by the postinstall hook: the database, migrations, the admin account."""
