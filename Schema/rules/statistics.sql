-- The planner's statistics after a large record. The current definition.

-- The statistics refreshed after a large record (0007) are taken from a smaller sample: 3 000 rows a table
-- (statistics target 10) instead of 30 000. What the plans after a record need is each table's size and its
-- commonest values, which a sample of 3 000 gives; the full sample cost 80 ms of recording a 10 000-grant round
-- (the small one 30 ms). Autovacuum's own ANALYZE, with the server's target, replaces these statistics as the
-- tables keep changing; an operator can run ANALYZE at any time.
CREATE OR REPLACE FUNCTION grants.refresh_statistics() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET default_statistics_target = 10 AS $$
BEGIN
    ANALYZE grants.programme, grants.allocation_round, grants.organisation, grants.theme, grants.application,
        grants.application_partner, grants.application_theme, grants.approval, grants.grant, grants.disbursement;
END
$$;
