"""Deployment chores run by the postinstall hook (the database, migrations, the admin account),
and what the app does when its database does not answer (deadlines, a 503)."""
