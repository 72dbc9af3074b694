-- The insert guards of grants and disbursements move from row-level triggers (one SECURITY DEFINER call
-- and one lookup per row: 1.5 s for a 10 000-grant round's 30 000 tranches) into the statement-level
-- triggers that already read the transition tables: one set-based check per statement, same rules,
-- same SQLSTATEs.

DROP TRIGGER disbursement_insert_guard ON grants.disbursement;
DROP FUNCTION grants.disbursement_insert_guard();
DROP TRIGGER grant_insert_guard ON grants.grant;
DROP FUNCTION grants.grant_insert_guard();

CREATE OR REPLACE FUNCTION grants.grant_totals_after_disbursement_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows n JOIN grants.grant g ON g.id = n.grant_id WHERE g.status = 'closed') THEN
        RAISE EXCEPTION 'the grant is closed' USING ERRCODE = 'GR003';
    END IF;
    IF EXISTS (SELECT 1 FROM new_rows n JOIN grants.grant g ON g.id = n.grant_id WHERE n.currency <> g.currency) THEN
        RAISE EXCEPTION 'a disbursement''s currency differs from its grant''s' USING ERRCODE = '23514';
    END IF;
    IF EXISTS (SELECT 1 FROM new_rows n
               WHERE n.status NOT IN ('scheduled', 'reversal')
                  OR (n.status = 'scheduled' AND (n.attested_by IS NOT NULL OR n.paid_on IS NOT NULL))) THEN
        RAISE EXCEPTION 'a disbursement starts scheduled' USING ERRCODE = 'GR002';
    END IF;
    IF EXISTS (SELECT 1 FROM new_rows n LEFT JOIN grants.disbursement o ON o.id = n.reverses_id
               WHERE n.status = 'reversal'
                 AND (o.status IS DISTINCT FROM 'paid' OR o.grant_id <> n.grant_id OR n.amount <> -o.amount)) THEN
        RAISE EXCEPTION 'a reversal negates one paid disbursement of the same grant' USING ERRCODE = 'GR004';
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

CREATE OR REPLACE FUNCTION grants.round_totals_after_grant_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows
               WHERE amount <> original_amount OR ends_on <> original_ends_on OR committed_total <> 0 OR paid_total <> 0
                  OR status <> 'active') THEN
        RAISE EXCEPTION 'a new grant starts active with its original award and no disbursements' USING ERRCODE = 'GR002';
    END IF;
    IF EXISTS (SELECT 1 FROM new_rows n JOIN grants.allocation_round r ON r.id = n.round_id WHERE r.status = 'closed') THEN
        RAISE EXCEPTION 'the round is closed: no new grants' USING ERRCODE = 'GR003';
    END IF;
    UPDATE grants.allocation_round r
       SET awarded_total = r.awarded_total + d.total
      FROM (SELECT round_id, sum(amount)::bigint AS total FROM new_rows GROUP BY round_id) AS d
     WHERE r.id = d.round_id;
    RETURN NULL;
END
$$;
