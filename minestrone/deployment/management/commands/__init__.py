"""migrate_safely: create the database and migrate, one instance at a time."""
