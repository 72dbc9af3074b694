-- Planner statistics right after a large round is recorded. Tables that grow from nearly empty to thousands
-- of rows have no statistics until autovacuum's next ANALYZE (a minute or more later), and meanwhile the
-- planner scanned every organisation once per grant: `round show` of a freshly recorded 10 000-grant round
-- took 12 s instead of 0.7 s, and the disbursement export likewise. The library calls this after recording
-- a large round. SECURITY DEFINER because only a table's owner may ANALYZE it; it takes no arguments and
-- only refreshes statistics that autovacuum would refresh anyway.
CREATE FUNCTION grants.refresh_statistics() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    ANALYZE grants.programme, grants.allocation_round, grants.organisation, grants.theme, grants.application,
        grants.application_partner, grants.application_theme, grants.approval, grants.grant, grants.disbursement;
END
$$;
