-- Least privilege. The roles are cluster-wide, so a database administrator creates them once
-- (`grants-admin db roles`, or the statements in grants.role_setup_sql()); migrations only grant to roles
-- that exist, so they also run for a user that cannot create roles.
--   grants_owner    owns the schema and runs migrations
--   grants_staff    reads everything; writes only through the paths staff use (no DELETE, no TRUNCATE,
--                   no UPDATE of amounts or totals: those move through amendments and triggers)
--   grants_finance  reads everything, writes nothing
CREATE FUNCTION grants.apply_privileges() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grants_staff') THEN
        GRANT USAGE ON SCHEMA grants TO grants_staff;
        GRANT SELECT ON ALL TABLES IN SCHEMA grants TO grants_staff;
        GRANT INSERT ON grants.programme, grants.allocation_round, grants.organisation, grants.theme,
            grants.application, grants.application_partner, grants.application_theme, grants.approval,
            grants.grant, grants.grant_amendment, grants.disbursement, grants.idempotency_key,
            grants.audit_event TO grants_staff;
        GRANT UPDATE (status, decided_on, closed_at) ON grants.allocation_round TO grants_staff;
        GRANT UPDATE (status) ON grants.application TO grants_staff;
        GRANT UPDATE (status, reclaimed, closed_on, closed_by) ON grants.grant TO grants_staff;
        GRANT UPDATE (status, attested_by, attested_at, paid_on, payment_reference, paid_by, cancelled_by,
            cancelled_at, reason) ON grants.disbursement TO grants_staff;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grants_finance') THEN
        GRANT USAGE ON SCHEMA grants TO grants_finance;
        GRANT SELECT ON ALL TABLES IN SCHEMA grants TO grants_finance;
    END IF;
END
$$;

REVOKE ALL ON FUNCTION grants.apply_privileges() FROM PUBLIC;
SELECT grants.apply_privileges();
