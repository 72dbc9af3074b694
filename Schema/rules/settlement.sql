-- Settlement and the money after it (DESIGN §10). The current definitions: re-applied when they change.
--
-- Once a grant is settled no tranche is scheduled, attested or paid on it, nor reversed: the settlement's paid
-- figure is the grant's paid total for good. Also for a write racing the settlement, by one lock protocol:
--   * settling locks the grant row FOR UPDATE (settlement_insert_guard, for every writer of a settlement);
--   * a new disbursement (AFTER INSERT, per statement) and an attestation or payment (BEFORE UPDATE, per row)
--     lock their grant row first, then look for the settlement in a later statement. Under READ COMMITTED
--     that statement has a new snapshot: a settlement committed while the lock was awaited is seen. Settling
--     after them waits for their commit, then counts them as unpaid (and refuses) or includes their payment.
-- The disbursement side takes FOR KEY SHARE: it conflicts with the settlement's FOR UPDATE and with nothing
-- else, so concurrent payers of one grant never wait on each other for it, and their own update of the grant's
-- totals (FOR NO KEY UPDATE) never has to upgrade a lock another payer also holds (FOR SHARE would deadlock
-- there).
--
-- A repayment's id is issued by grants.next_entry_id() here, never given by the writer: repayments and
-- disbursements share one id space (the exports' disbursement_id), and an id chosen ahead of the sequence
-- would later be issued to a disbursement too.
--
-- SQLSTATEs: GR002 (rule invalid_transition, entity grant, from settled | active with N unpaid disbursements),
-- GR003 closed; 23505 for a repayment given an id.

CREATE OR REPLACE FUNCTION grants.settlement_insert_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g grants.grant;
    pending bigint;
BEGIN
    -- The grant's lock keeps its paid total still until this transaction ends, and makes every disbursement
    -- written on it meanwhile wait for this settlement and see it.
    SELECT * INTO g FROM grants.grant WHERE id = NEW.grant_id FOR UPDATE;
    IF g.status = 'closed' THEN
        RAISE EXCEPTION 'grant % is closed', g.reference
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'grant', g.reference);
    END IF;
    -- A later statement than the lock: disbursements committed while it was awaited are counted.
    SELECT count(*) INTO pending FROM grants.disbursement WHERE grant_id = g.id AND status IN ('scheduled', 'attested');
    IF pending > 0 THEN
        RAISE EXCEPTION 'grant % has % unpaid disbursements: pay or cancel them before settling', g.reference, pending
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'grant', g.reference,
                      jsonb_build_object('from', format('active with %s unpaid disbursements', pending), 'to', 'settled'));
    END IF;
    NEW.currency := g.currency;
    NEW.paid := g.paid_total;
    NEW.claimed := greatest(g.paid_total - NEW.spent, 0);
    NEW.repaid_total := 0;
    NEW.written_off := 0;
    NEW.write_off_reason := NULL;
    RETURN NEW;
END
$$;

-- New disbursements (tranches and reversals) on a settled grant.
CREATE OR REPLACE FUNCTION grants.disbursement_after_settlement() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    settled record;
BEGIN
    -- Lock first, in id order as every writer does; probed by key from an array, so a round's record of
    -- thousands of grants stays linear.
    PERFORM 1 FROM grants.grant g WHERE g.id = ANY (ARRAY(SELECT DISTINCT grant_id FROM new_rows))
     ORDER BY g.id FOR KEY SHARE;
    SELECT g.reference, n.status INTO settled
      FROM new_rows n JOIN grants.settlement s ON s.grant_id = n.grant_id JOIN grants.grant g ON g.id = n.grant_id
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'grant % is settled: no more disbursements', settled.reference
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'grant', settled.reference,
                                              jsonb_build_object('from', 'settled', 'to', settled.status));
    END IF;
    RETURN NULL;
END
$$;

-- Attesting or paying a tranche of a settled grant (trigger settled_grant_refuses_attest_or_pay, 0021).
CREATE OR REPLACE FUNCTION grants.disbursement_change_after_settlement() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    settled_grant text;
BEGIN
    PERFORM 1 FROM grants.grant WHERE id = NEW.grant_id FOR KEY SHARE;
    SELECT g.reference INTO settled_grant
      FROM grants.settlement s JOIN grants.grant g ON g.id = s.grant_id WHERE s.grant_id = NEW.grant_id;
    IF FOUND THEN
        RAISE EXCEPTION 'grant % is settled: disbursement % cannot be %', settled_grant, NEW.id, NEW.status
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'grant', settled_grant,
                                              jsonb_build_object('from', 'settled', 'to', NEW.status, 'disbursement', NEW.id));
    END IF;
    RETURN NEW;
END
$$;

-- A repayment's id: issued here, never given.
CREATE OR REPLACE FUNCTION grants.repayment_takes_its_id() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.id IS NOT NULL THEN
        RAISE EXCEPTION 'a repayment''s id is taken from grants.next_entry_id(), never given' USING ERRCODE = '23505',
            TABLE = 'repayment', SCHEMA = 'grants',
            DETAIL = grants.rule_detail('id_given', 'repayment', NEW.id::text);
    END IF;
    NEW.id := grants.next_entry_id();
    RETURN NEW;
END
$$;
