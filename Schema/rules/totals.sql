-- Running totals (DESIGN §4): Σ awarded of a round ≤ its budget, Σ non-cancelled disbursements of a grant ≤
-- its award, held as totals on the parent row with a CHECK, moved in the same statement as the child rows.
-- The UPDATE of the parent takes its row lock, so concurrent writers queue on it and each adds to the
-- committed total (an increment is re-evaluated on the newest row version; a recomputed sum would not be).

-- New grants: they start active, with their original award and zero totals (their tranches, inserted after
-- them or with them, add to the totals); a closed round takes none; the round's awarded total moves by their
-- sum, checked against the budget with the round locked.
--
-- New grants of one round (an approval; most records): one UPDATE that adds their sum only where it stays within
-- the budget. The UPDATE locks the round; under READ COMMITTED a row whose lock was awaited has its WHERE
-- evaluated again on the version its writer committed, so the budget is compared with the committed total, and
-- under REPEATABLE READ or SERIALIZABLE a round another writer moved fails to serialize (40001). When the sum
-- does not fit, or the grants go to several rounds, grants.check_round_budgets locks the rounds in id order,
-- says by how much the first over its budget would pass it, or else the totals move as before. The CHECK
-- round_within_budget holds either way.
CREATE OR REPLACE FUNCTION grants.round_totals_after_grant_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    not_new boolean;
    closed_round text;
    rounds bigint;
    one_round bigint;
    one_total bigint;
    deltas jsonb;
BEGIN
    -- What the new rows are and where they go, in one statement.
    SELECT bool_or(n.amount <> n.original_amount OR n.ends_on <> n.original_ends_on OR n.status <> 'active'
                   OR n.committed_total <> 0 OR n.paid_total <> 0),
           min(r.name) FILTER (WHERE r.status = 'closed'),
           count(DISTINCT n.round_id), min(n.round_id), sum(n.amount)::bigint
      INTO not_new, closed_round, rounds, one_round, one_total
      FROM new_rows n LEFT JOIN grants.allocation_round r ON r.id = n.round_id;
    IF not_new THEN
        RAISE EXCEPTION 'a new grant starts active with its original award and no disbursements'
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'grant', NULL,
                                              jsonb_build_object('from', 'none', 'to', 'active'));
    END IF;
    IF closed_round IS NOT NULL THEN
        RAISE EXCEPTION 'round % is closed: no new grants', closed_round
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'round', closed_round);
    END IF;
    IF rounds = 0 THEN
        RETURN NULL;
    END IF;
    IF rounds = 1 THEN
        UPDATE grants.allocation_round r
           SET awarded_total = r.awarded_total + one_total
         WHERE r.id = one_round AND r.awarded_total + one_total <= r.budget;
        IF FOUND THEN
            RETURN NULL;
        END IF;
    END IF;
    SELECT jsonb_object_agg(t.round_id, t.total) INTO deltas
      FROM (SELECT x.round_id, sum(x.amount)::bigint AS total FROM new_rows x GROUP BY x.round_id) AS t;
    PERFORM grants.check_round_budgets(deltas);
    UPDATE grants.allocation_round r
       SET awarded_total = r.awarded_total + (d.value)::bigint
      FROM jsonb_each_text(deltas) AS d
     WHERE r.id = (d.key)::bigint;
    RETURN NULL;
END
$$;

-- New disbursements: to an active grant, in its currency, starting scheduled (or a reversal that negates one
-- paid disbursement of the same grant); each grant's totals move by the sums of its new rows, one UPDATE per
-- statement, and the grant's CHECK (disbursements_within_award) holds the award.
CREATE OR REPLACE FUNCTION grants.grant_totals_after_disbursement_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    closed_grant text;
    other_currency boolean;
    not_scheduled boolean;
    bad_reversal boolean;
BEGIN
    -- Every check of the new rows in one statement; refused in this order.
    SELECT min(g.reference) FILTER (WHERE g.status = 'closed'), coalesce(bool_or(n.currency <> g.currency), false),
           coalesce(bool_or(n.status NOT IN ('scheduled', 'reversal')
                            OR (n.status = 'scheduled' AND (n.attested_by IS NOT NULL OR n.paid_on IS NOT NULL))), false),
           coalesce(bool_or(n.status = 'reversal'
                            AND (o.status IS DISTINCT FROM 'paid' OR o.grant_id <> n.grant_id OR n.amount <> -o.amount)),
                    false)
      INTO closed_grant, other_currency, not_scheduled, bad_reversal
      FROM new_rows n JOIN grants.grant g ON g.id = n.grant_id LEFT JOIN grants.disbursement o ON o.id = n.reverses_id;
    IF closed_grant IS NOT NULL THEN
        RAISE EXCEPTION 'grant % is closed', closed_grant
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'grant', closed_grant);
    END IF;
    IF other_currency THEN
        RAISE EXCEPTION 'a disbursement''s currency differs from its grant''s' USING ERRCODE = '23514', CONSTRAINT = 'currency_of_grant';
    END IF;
    IF not_scheduled THEN
        RAISE EXCEPTION 'a disbursement starts scheduled'
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'disbursement', NULL,
                                              jsonb_build_object('from', 'none', 'to', 'attested'));
    END IF;
    IF bad_reversal THEN
        RAISE EXCEPTION 'a reversal negates one paid disbursement of the same grant'
            USING ERRCODE = 'GR004',
                  DETAIL = grants.rule_detail('invalid_transition', 'disbursement',
                      (SELECT n.reverses_id::text FROM new_rows n WHERE n.status = 'reversal' LIMIT 1),
                      jsonb_build_object('from', 'unpaid', 'to', 'reversal'));
    END IF;
    UPDATE grants.grant g
       SET committed_total = g.committed_total + d.committed,
           paid_total = g.paid_total + d.paid
      FROM (SELECT grant_id,
                   sum(grants.committed_part(status, amount))::bigint AS committed,
                   sum(grants.paid_part(status, amount))::bigint AS paid
              FROM new_rows GROUP BY grant_id) AS d
     WHERE g.id = d.grant_id;
    RETURN NULL;
END
$$;
