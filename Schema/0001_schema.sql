-- The grants schema: everything this library stores lives here, so it can share a database with the
-- service that embeds it.
CREATE SCHEMA IF NOT EXISTS grants;
REVOKE ALL ON SCHEMA grants FROM PUBLIC;
