-- The application's role: it logs in and owns its database, nothing more (the attributes are
-- backing_services/postgres.py's OWNER_ATTRIBUTES). Run by the entrypoint as the superuser at
-- every start, so a changed password takes effect; the values come from the environment.
\set ON_ERROR_STOP on
\getenv app_user POSTGRES_APP_USER
\getenv app_password POSTGRES_APP_PASSWORD
\getenv app_db POSTGRES_APP_DB
SELECT pg_catalog.format('CREATE ROLE %I', :'app_user')
    WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'app_user') \gexec
ALTER ROLE :"app_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'app_password';
SELECT pg_catalog.format('CREATE DATABASE %I OWNER %I', :'app_db', :'app_user')
    WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = :'app_db') \gexec
ALTER DATABASE :"app_db" OWNER TO :"app_user";
REVOKE ALL ON DATABASE :"app_db" FROM PUBLIC;
