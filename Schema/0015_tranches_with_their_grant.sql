-- A grant may be inserted together with its first tranches, in one statement, carrying their totals: recording a
-- round then never updates the grants it has just inserted. That update (the disbursement trigger adding each
-- grant's tranches to its totals) was the largest part of recording a 10 000-grant round: 10 000 new row
-- versions, each re-checked by the grant's own foreign keys (PostgreSQL re-checks a row inserted by the same
-- transaction on every update) and passed through the grant's row-level update triggers.
--
-- The rule is unchanged, for every writer: a grant's committed_total and paid_total are the sums over its
-- disbursements.
-- - A new grant's totals must equal the sums over the disbursements that exist for it when its insert
--   statement ends: those inserted by the same statement (a data-modifying WITH), or none, so 0 as before.
-- - The disbursement trigger adds new disbursements to their grant's totals as before, except for a grant whose
--   row version was written by this very statement (same transaction and command id as the disbursements):
--   there the totals must already be the sums over all of the grant's disbursements, or the insert is refused.
--   That also covers a statement that updates an existing grant and inserts its disbursements together.

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
    -- The totals a new grant carries are those of the disbursements inserted with it (none: 0).
    -- Joined first, then summed per grant: each grant probes the disbursements' grant index, so the plan stays
    -- linear whatever the planner guesses of a transition table's size.
    IF EXISTS (SELECT 1 FROM (SELECT n.committed_total, n.paid_total,
                                     coalesce(sum(grants.committed_part(d.status, d.amount)), 0)::bigint AS committed,
                                     coalesce(sum(grants.paid_part(d.status, d.amount)), 0)::bigint AS paid
                                FROM new_rows n LEFT JOIN grants.disbursement d ON d.grant_id = n.id
                               GROUP BY n.id, n.committed_total, n.paid_total) s
                WHERE s.committed_total <> s.committed OR s.paid_total <> s.paid) THEN
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

CREATE OR REPLACE FUNCTION grants.grant_totals_after_disbursement_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    closed_grant text;
    other_currency boolean;
    this_xmin xid;
    this_cmin cid;
BEGIN
    -- Closed grants and currencies in one pass over the new rows and their grants (was two).
    SELECT min(g.reference) FILTER (WHERE g.status = 'closed'), coalesce(bool_or(n.currency <> g.currency), false)
      INTO closed_grant, other_currency
      FROM new_rows n JOIN grants.grant g ON g.id = n.grant_id;
    IF closed_grant IS NOT NULL THEN
        RAISE EXCEPTION 'grant % is closed', closed_grant
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'grant', closed_grant);
    END IF;
    IF other_currency THEN
        RAISE EXCEPTION 'a disbursement''s currency differs from its grant''s' USING ERRCODE = '23514';
    END IF;
    IF EXISTS (SELECT 1 FROM new_rows n
               WHERE n.status NOT IN ('scheduled', 'reversal')
                  OR (n.status = 'scheduled' AND (n.attested_by IS NOT NULL OR n.paid_on IS NOT NULL))) THEN
        RAISE EXCEPTION 'a disbursement starts scheduled'
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'disbursement', NULL,
                                              jsonb_build_object('from', 'none', 'to', 'attested'));
    END IF;
    IF EXISTS (SELECT 1 FROM new_rows n LEFT JOIN grants.disbursement o ON o.id = n.reverses_id
               WHERE n.status = 'reversal'
                 AND (o.status IS DISTINCT FROM 'paid' OR o.grant_id <> n.grant_id OR n.amount <> -o.amount)) THEN
        RAISE EXCEPTION 'a reversal negates one paid disbursement of the same grant'
            USING ERRCODE = 'GR004',
                  DETAIL = grants.rule_detail('invalid_transition', 'disbursement',
                      (SELECT n.reverses_id::text FROM new_rows n WHERE n.status = 'reversal' LIMIT 1),
                      jsonb_build_object('from', 'unpaid', 'to', 'reversal'));
    END IF;
    -- The transaction and command that wrote these disbursements (every row of a statement has the same).
    SELECT d.xmin, d.cmin INTO this_xmin, this_cmin
      FROM grants.disbursement d WHERE d.id = (SELECT id FROM new_rows LIMIT 1);
    -- A grant written by this same statement already carries its totals: they must be the sums over all of its
    -- disbursements (the grant insert trigger checks the same for grants inserted with their tranches). The grants
    -- are found by key (= ANY of an array), each probing the disbursements' grant index: linear in the rows
    -- whatever the planner guesses of a transition table's size (an IN over it was planned as a nested loop).
    IF EXISTS (SELECT 1 FROM (SELECT g.committed_total, g.paid_total,
                                     sum(grants.committed_part(d.status, d.amount))::bigint AS committed,
                                     sum(grants.paid_part(d.status, d.amount))::bigint AS paid
                                FROM grants.grant g JOIN grants.disbursement d ON d.grant_id = g.id
                               WHERE g.id = ANY (ARRAY(SELECT grant_id FROM new_rows))
                                 AND g.xmin = this_xmin AND g.cmin = this_cmin
                               GROUP BY g.id) s
                WHERE s.committed_total <> s.committed OR s.paid_total <> s.paid) THEN
        RAISE EXCEPTION 'a grant written in the same statement as its disbursements must carry their totals'
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'disbursement', NULL,
                                              jsonb_build_object('from', 'none', 'to', 'scheduled'));
    END IF;
    UPDATE grants.grant g
       SET committed_total = g.committed_total + d.committed,
           paid_total = g.paid_total + d.paid
      FROM (SELECT grant_id,
                   sum(grants.committed_part(status, amount))::bigint AS committed,
                   sum(grants.paid_part(status, amount))::bigint AS paid
              FROM new_rows GROUP BY grant_id) AS d
     WHERE g.id = d.grant_id AND NOT (g.xmin = this_xmin AND g.cmin = this_cmin);
    RETURN NULL;
END
$$;
