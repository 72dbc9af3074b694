-- Who may do what: the one definition of every privilege the library's roles hold. Re-applied whenever this
-- file changes, and by `grants-admin db roles` after it creates the roles (roles are cluster-wide, so a
-- database administrator creates them; a migration only grants to roles that exist).
--
--   grants_owner    owns the schemas and runs migrations; the only login that writes tables
--   grants_staff    a person's own login: reads the tables; writes only by calling grants_api functions, as itself
--   grants_service  an embedding service's pool login: as staff, and states which registered person acts;
--                   registers and retires people
--   grants_finance  reads; calls nothing that writes or locks, except the books' own acts: closing and
--                   reopening a period (grants_api.close_period, open_period) and importing the bank's answers
--                   (grants_api.import_bank_message), which no other role may call
--
-- Functions in grants are internal: PUBLIC's default EXECUTE is revoked from every one of them, so no login
-- but the owner can call one that writes or locks (check_round_budgets, next_entry_id, …). The functions a
-- reader needs (names, rules, shares of an amount) are granted by name; writers may also refresh the planner's
-- statistics after a large record (refresh_statistics).

CREATE OR REPLACE FUNCTION grants.apply_privileges() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    role_name text;
    fn regprocedure;
BEGIN
    REVOKE ALL ON ALL TABLES IN SCHEMA grants FROM PUBLIC;
    REVOKE ALL ON ALL SEQUENCES IN SCHEMA grants FROM PUBLIC;
    REVOKE ALL ON ALL FUNCTIONS IN SCHEMA grants FROM PUBLIC;
    REVOKE ALL ON ALL FUNCTIONS IN SCHEMA grants_api FROM PUBLIC;
    FOREACH role_name IN ARRAY ARRAY['grants_staff', 'grants_service', 'grants_finance'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name);
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA grants FROM %I', role_name);
        EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA grants FROM %I', role_name);
        EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA grants FROM %I', role_name);
        EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA grants_api FROM %I', role_name);
        EXECUTE format('GRANT USAGE ON SCHEMA grants TO %I', role_name);
        EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA grants TO %I', role_name);
        -- What reading needs: pure functions over names and amounts.
        EXECUTE format('GRANT EXECUTE ON FUNCTION grants.actor_name(text), grants.login_actor(), '
                       'grants.paid_part(text, bigint), grants.committed_part(text, bigint), '
                       'grants.rule_detail(text, text, text, jsonb), '
                       'grants.recorded_paid_at(text, timestamptz, timestamptz), '
                       'grants.business_date(date, timestamptz) TO %I', role_name);
    END LOOP;
    FOREACH role_name IN ARRAY ARRAY['grants_staff', 'grants_service'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name);
        EXECUTE format('GRANT USAGE ON SCHEMA grants_api TO %I', role_name);
        -- Every write of the API, except the register of people (below), the books' periods and the bank's
        -- answers (finance's).
        FOR fn IN
            SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'grants_api'
               AND p.proname NOT IN ('person_add', 'person_retire', 'close_period', 'open_period', 'import_bank_message')
        LOOP
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', fn, role_name);
        END LOOP;
        -- After a large record the library refreshes the planner's statistics (ANALYZE of a sample of each
        -- grants table, SECURITY DEFINER): a writer's housekeeping, not finance's.
        EXECUTE format('GRANT EXECUTE ON FUNCTION grants.refresh_statistics() TO %I', role_name);
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grants_service') THEN
        GRANT EXECUTE ON FUNCTION grants_api.person_add(text, text, text), grants_api.person_retire(text, text)
            TO grants_service;
    END IF;
    -- Finance closes and reopens the programme's periods: the books are finance's, and the people who record
    -- decisions and payments (staff, and a service acting for any of them) do not choose which of their dates
    -- the books still take. Every role reads the list.
    -- Finance also imports the bank's answers (pain.002, camt.054): the import marks tranches paid and receives
    -- repayments on the bank's word, so whoever may call it can make money look paid. A bank file is finance's
    -- to bring in; staff and a service (which may say it acts for anyone) cannot, and a staff login that tried
    -- with a file of its own making gets no EXECUTE (42501).
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grants_finance') THEN
        GRANT USAGE ON SCHEMA grants_api TO grants_finance;
        GRANT EXECUTE ON FUNCTION grants_api.close_period(text, text, text), grants_api.open_period(text, text, text, text),
                                  grants_api.periods(text), grants_api.import_bank_message(text, text, jsonb, text)
            TO grants_finance;
    END IF;
END
$$;
REVOKE ALL ON FUNCTION grants.apply_privileges() FROM PUBLIC;
-- Functions the owner creates later start without PUBLIC's EXECUTE too (the migrator also re-runs
-- apply_privileges() whenever any definition changed, so new API functions reach their roles).
ALTER DEFAULT PRIVILEGES IN SCHEMA grants REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA grants_api REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

SELECT grants.apply_privileges();
