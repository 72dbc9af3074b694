-- Checks on new disbursements made with fewer lookups (recording a round inserts 30 000 tranches in one
-- statement; scheduling one tranche is unchanged):
-- - The grant each refers to (0016) is looked up once per grant, not once per tranche.
-- - A reversal's reference to the disbursement it reverses (`reverses_id`, NULL on every other row) is checked
--   by the same trigger over the rows that have one, instead of by a foreign key that fired for every row.
--   Disbursements are never deleted (0003) and now keep their ids, as the other parents of 0016 do.
-- - "Reversed at most once" is a unique index over the reversals alone: every other row has no reverses_id,
--   and a unique constraint kept an index entry for each of them.
-- - A new grant's totals were checked twice when it came with its tranches: by the grant trigger (0015) and by
--   the disbursement trigger, which checks every grant written by the same statement against all of its
--   disbursements. The grant trigger now checks only what the other cannot see: a new grant whose totals are not 0
--   has disbursements. They can only have come with it: a disbursement refers to an existing grant (0016), and a
--   grant's id is new and never reused (grants are never deleted).
CREATE OR REPLACE FUNCTION grants.disbursement_references_exist() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    missing text;
BEGIN
    SELECT k::text INTO missing FROM unnest(ARRAY(SELECT DISTINCT grant_id FROM new_rows)) AS k
     WHERE NOT EXISTS (SELECT 1 FROM grants.grant g WHERE g.id = k) LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_missing_reference('disbursement', 'disbursement_grant_id_fkey', 'grant_id', missing, 'grant');
    END IF;
    SELECT k::text INTO missing FROM unnest(ARRAY(SELECT reverses_id FROM new_rows WHERE reverses_id IS NOT NULL)) AS k
     WHERE NOT EXISTS (SELECT 1 FROM grants.disbursement d WHERE d.id = k) LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_missing_reference('disbursement', 'disbursement_reverses_id_fkey', 'reverses_id', missing,
                                                'disbursement');
    END IF;
    RETURN NULL;
END
$$;

ALTER TABLE grants.disbursement DROP CONSTRAINT disbursement_reverses_id_fkey;
CREATE TRIGGER disbursement_keeps_its_key BEFORE UPDATE OF id ON grants.disbursement
    FOR EACH ROW WHEN (NEW.id <> OLD.id) EXECUTE FUNCTION grants.refuse_parent_change();
COMMENT ON TRIGGER disbursement_references_exist ON grants.disbursement IS
    'foreign keys: grant_id → grant.id; reverses_id → disbursement.id';

ALTER TABLE grants.disbursement DROP CONSTRAINT disbursement_reverses_id_key;
CREATE UNIQUE INDEX disbursement_reversed_once ON grants.disbursement (reverses_id) WHERE reverses_id IS NOT NULL;

CREATE OR REPLACE FUNCTION grants.round_totals_after_grant_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    deltas jsonb;
    closed_round text;
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows
               WHERE amount <> original_amount OR ends_on <> original_ends_on OR status <> 'active') THEN
        RAISE EXCEPTION 'a new grant starts active with its original award and no disbursements'
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'grant', NULL,
                                              jsonb_build_object('from', 'none', 'to', 'active'));
    END IF;
    -- The totals a new grant carries are those of the disbursements inserted with it: with none, 0. Where there
    -- are some, the disbursement trigger checks the sums (0018); each grant probes the disbursements' grant index.
    IF EXISTS (SELECT 1 FROM new_rows n
                WHERE (n.committed_total <> 0 OR n.paid_total <> 0)
                  AND NOT EXISTS (SELECT 1 FROM grants.disbursement d WHERE d.grant_id = n.id)) THEN
        RAISE EXCEPTION 'a new grant''s totals are those of the disbursements inserted with it'
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'grant', NULL,
                                              jsonb_build_object('from', 'none', 'to', 'active'));
    END IF;
    SELECT r.name INTO closed_round FROM new_rows n JOIN grants.allocation_round r ON r.id = n.round_id
     WHERE r.status = 'closed' LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'round % is closed: no new grants', closed_round
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'round', closed_round);
    END IF;
    SELECT jsonb_object_agg(round_id, total) INTO deltas
      FROM (SELECT round_id, sum(amount)::bigint AS total FROM new_rows GROUP BY round_id) AS d;
    PERFORM grants.check_round_budgets(coalesce(deltas, '{}'));
    UPDATE grants.allocation_round r
       SET awarded_total = r.awarded_total + d.total
      FROM (SELECT round_id, sum(amount)::bigint AS total FROM new_rows GROUP BY round_id) AS d
     WHERE r.id = d.round_id;
    RETURN NULL;
END
$$;
