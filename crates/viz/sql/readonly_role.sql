-- The script that makes $1 a login role that can only read the mart (password $2).
-- It is built by the server with format(%I, %L), so the role name and password are quoted
-- by PostgreSQL itself, then run as is. Default privileges cover the tables the granting
-- role creates later (new months' partitions, rebuilt aggregates).
SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)
            THEN format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L;', $1, $2)
            ELSE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L;', $1, $2)
       END
    || format(' ALTER ROLE %I SET default_transaction_read_only = on;', $1)
    || format(' GRANT CONNECT ON DATABASE %I TO %I;', current_database(), $1)
    || format(' GRANT USAGE ON SCHEMA mart TO %I;', $1)
    || format(' GRANT SELECT ON ALL TABLES IN SCHEMA mart TO %I;', $1)
    || format(' ALTER DEFAULT PRIVILEGES IN SCHEMA mart GRANT SELECT ON TABLES TO %I;', $1)
