-- After the award (reporting requirements, settlement, repayments, closing, partnerships, contacts): the
-- guards behind the API. The current definitions.

CREATE OR REPLACE FUNCTION grants.contact_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.erased_at IS NOT NULL OR NEW.erased_at IS NULL
       OR (NEW.organisation_id, NEW.role, NEW.added_by, NEW.added_at)
          IS DISTINCT FROM (OLD.organisation_id, OLD.role, OLD.added_by, OLD.added_at) THEN
        RAISE EXCEPTION 'contact %: the only change is erasure, once; the tombstone stays', OLD.id
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'contact', OLD.id::text);
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION grants.continues_never_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'application % keeps the grant it continues', OLD.reference
        USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'application', OLD.reference);
END
$$;

CREATE OR REPLACE FUNCTION grants.continues_same_applicant() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.reference, g.reference AS continues INTO bad
      FROM new_rows n JOIN grants.grant g ON g.id = n.continues_grant_id
      JOIN grants.application earlier ON earlier.id = g.application_id
     WHERE earlier.applicant_id <> n.applicant_id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'application % cannot continue grant %: another applicant''s', bad.reference, bad.continues
            USING ERRCODE = '23514', CONSTRAINT = 'continues_same_applicant', TABLE = 'application', SCHEMA = 'grants',
                  DETAIL = grants.rule_detail('continues_other_applicant', 'application', bad.reference,
                                              jsonb_build_object('continues', bad.continues));
    END IF;
    RETURN NULL;
END
$$;

-- Closing: the final reports approved or waived, and no open claim unless a write-off says why.
CREATE OR REPLACE FUNCTION grants.grant_close_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    pending bigint;
    s grants.settlement;
BEGIN
    SELECT id INTO pending FROM grants.reporting_requirement
     WHERE grant_id = NEW.id AND kind = 'final' AND status NOT IN ('approved', 'waived') ORDER BY id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'grant %: final report requirement % is neither approved nor waived', OLD.reference, pending
            USING ERRCODE = 'GR111',
                  DETAIL = grants.rule_detail('report_pending', 'grant', OLD.reference,
                                              jsonb_build_object('requirement', pending));
    END IF;
    SELECT * INTO s FROM grants.settlement WHERE grant_id = NEW.id;
    IF FOUND AND s.claimed - s.repaid_total - s.written_off > 0 THEN
        RAISE EXCEPTION 'grant %: the repayment claim is open; write the rest off with a reason to close', OLD.reference
            USING ERRCODE = 'GR112',
                  DETAIL = grants.rule_detail('claim_open', 'grant', OLD.reference,
                      jsonb_build_object('excess', s.claimed - s.repaid_total - s.written_off, 'currency', s.currency));
    END IF;
    RETURN NEW;
END
$$;

-- Repayments share the disbursements' id space, so the `disbursement_id` column of the exports names one row
-- whichever table it came from. SECURITY DEFINER: staff need no privilege on the identity's sequence.
CREATE OR REPLACE FUNCTION grants.next_entry_id() RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT nextval(pg_get_serial_sequence('grants.disbursement', 'id'))
$$;

CREATE OR REPLACE FUNCTION grants.requirement_insert_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    closed_grant text;
BEGIN
    SELECT g.reference INTO closed_grant FROM new_rows n JOIN grants.grant g ON g.id = n.grant_id
     WHERE g.status = 'closed' LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'grant % is closed', closed_grant
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'grant', closed_grant);
    END IF;
    IF EXISTS (SELECT 1 FROM new_rows WHERE status <> 'due' OR received_on IS NOT NULL OR approved_on IS NOT NULL) THEN
        RAISE EXCEPTION 'a reporting requirement starts due'
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'requirement', NULL,
                                              jsonb_build_object('from', 'none', 'to', 'received'));
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION grants.requirement_update_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.grant_id, NEW.kind, NEW.due_on, NEW.before_tranche, NEW.created_by, NEW.created_at)
        IS DISTINCT FROM (OLD.grant_id, OLD.kind, OLD.due_on, OLD.before_tranche, OLD.created_by, OLD.created_at) THEN
        RAISE EXCEPTION 'requirement % keeps its grant, kind, due date and tranche', OLD.id
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'requirement', OLD.id::text);
    END IF;
    IF NOT ((OLD.status = 'due' AND NEW.status IN ('received', 'waived'))
         OR (OLD.status = 'received' AND NEW.status IN ('approved', 'returned', 'waived'))
         OR (OLD.status = 'returned' AND NEW.status IN ('received', 'waived'))) THEN
        RAISE EXCEPTION 'requirement % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'requirement', OLD.id::text,
                                              jsonb_build_object('from', OLD.status, 'to', NEW.status));
    END IF;
    RETURN NEW;
END
$$;

-- Σ received ≤ claimed (less what was written off), on the settlement row like the other running totals:
-- the settlement rows are locked in grant order first, so the excess is said from committed totals.
CREATE OR REPLACE FUNCTION grants.settlement_totals_after_repayment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    over record;
    closed_grant text;
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows n JOIN grants.disbursement d ON d.id = n.id) THEN
        RAISE EXCEPTION 'a repayment''s id is taken from grants.next_entry_id(), never given' USING ERRCODE = '23505';
    END IF;
    SELECT g.reference INTO closed_grant FROM new_rows n JOIN grants.grant g ON g.id = n.grant_id
     WHERE g.status = 'closed' LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'grant % is closed', closed_grant
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'grant', closed_grant);
    END IF;
    IF EXISTS (SELECT 1 FROM new_rows n JOIN grants.settlement s ON s.grant_id = n.grant_id WHERE n.currency <> s.currency) THEN
        RAISE EXCEPTION 'a repayment''s currency differs from its grant''s' USING ERRCODE = '23514', CONSTRAINT = 'currency_of_grant';
    END IF;
    PERFORM 1 FROM grants.settlement WHERE grant_id IN (SELECT grant_id FROM new_rows) ORDER BY grant_id FOR NO KEY UPDATE;
    SELECT g.reference, s.currency, s.repaid_total + d.total + s.written_off - s.claimed AS excess INTO over
      FROM (SELECT grant_id, sum(amount)::bigint AS total FROM new_rows GROUP BY grant_id) d
      JOIN grants.settlement s ON s.grant_id = d.grant_id JOIN grants.grant g ON g.id = d.grant_id
     WHERE s.repaid_total + d.total + s.written_off > s.claimed
     ORDER BY d.grant_id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'grant %: repayments would exceed the claim', over.reference
            USING ERRCODE = '23514', CONSTRAINT = 'repaid_within_claim', TABLE = 'settlement', SCHEMA = 'grants',
                  DETAIL = grants.rule_detail('repayment_exceeds_claim', 'grant', over.reference,
                                              jsonb_build_object('excess', over.excess, 'currency', over.currency));
    END IF;
    UPDATE grants.settlement s
       SET repaid_total = s.repaid_total + d.total
      FROM (SELECT grant_id, sum(amount)::bigint AS total FROM new_rows GROUP BY grant_id) AS d
     WHERE s.grant_id = d.grant_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION grants.settlement_update_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.grant_id, NEW.currency, NEW.spent, NEW.paid, NEW.claimed, NEW.settled_on, NEW.settled_by, NEW.recorded_at)
        IS DISTINCT FROM (OLD.grant_id, OLD.currency, OLD.spent, OLD.paid, OLD.claimed, OLD.settled_on, OLD.settled_by,
                          OLD.recorded_at)
       OR (OLD.written_off <> 0 AND (NEW.written_off, NEW.write_off_reason) IS DISTINCT FROM (OLD.written_off, OLD.write_off_reason))
    THEN
        RAISE EXCEPTION 'the settlement of grant % is recorded once; only repayments and one write-off follow', NEW.grant_id
            USING ERRCODE = 'GR001',
                  DETAIL = grants.rule_detail('append_only', 'settlement',
                                              (SELECT reference FROM grants.grant WHERE id = OLD.grant_id));
    END IF;
    RETURN NEW;
END
$$;
