-- After the award (DESIGN §10): reporting requirements that may hold a tranche back, the final account
-- (settlement) and the repayment claim it opens, repayments received against it, partnerships that continue
-- across rounds, and contacts (the only personal data besides staff names, erasable to a tombstone).
--
-- SQLSTATEs of this migration (GR11x, so they never meet another migration's own):
--   GR110 held back: tranche N of a grant cannot be attested or paid while a requirement with
--         before_tranche = N is neither approved nor waived
--   GR111 a grant cannot close while a final report is neither approved nor waived
--   GR112 a grant cannot close while its repayment claim is open and no write-off says why
-- and as 0008 uses them: GR001 append-only, GR002 invalid state change, GR003 closed; 23514 with
-- CONSTRAINT repaid_within_claim | continues_same_applicant. DETAIL is grants.rule_detail(...) JSON as in 0008;
-- the new keys are tranche, requirement (GR110, GR111) and excess/currency (GR112, repaid_within_claim).

-- Tranches: numbered 1, 2, … per grant. A cancelled tranche gives its number back (it was never paid, so
-- "tranche 2" is whatever is scheduled as tranche 2 now); a paid one keeps it even when reversed, and the
-- corrected payment takes the next number. Reversals carry no number.
ALTER TABLE grants.disbursement DROP CONSTRAINT disbursement_grant_id_tranche_key;
CREATE UNIQUE INDEX disbursement_live_tranche ON grants.disbursement (grant_id, tranche)
    WHERE status <> 'cancelled' AND tranche IS NOT NULL;
ALTER TABLE grants.disbursement ADD CONSTRAINT tranche_positive CHECK (tranche > 0);

-- Reporting requirements: due → received → approved; received → returned → received again; waived ends it
-- (from due, received or returned). Approved and waived rows never change.
CREATE TABLE grants.reporting_requirement (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grant_id        bigint NOT NULL REFERENCES grants.grant,
    kind            text NOT NULL CHECK (kind IN ('interim', 'final')),
    due_on          date NOT NULL,
    before_tranche  int CHECK (before_tranche > 0),
    status          text NOT NULL DEFAULT 'due' CHECK (status IN ('due', 'received', 'approved', 'returned', 'waived')),
    received_on     date,
    approved_on     date,
    reason          text CHECK (length(reason) BETWEEN 1 AND 1000),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    changed_by      text,
    changed_at      timestamptz,
    -- The natural key of `requirement add` and of a manifest's reports: adding the same one again is a retry.
    UNIQUE (grant_id, kind, due_on),
    CONSTRAINT received_has_date CHECK (status NOT IN ('received', 'approved') OR received_on IS NOT NULL),
    CONSTRAINT approved_has_date CHECK (status <> 'approved' OR approved_on IS NOT NULL),
    CONSTRAINT returned_or_waived_has_reason CHECK (status NOT IN ('returned', 'waived') OR reason IS NOT NULL)
);

CREATE FUNCTION grants.requirement_insert_guard() RETURNS trigger
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
CREATE TRIGGER requirement_insert_guard AFTER INSERT ON grants.reporting_requirement
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.requirement_insert_guard();

CREATE FUNCTION grants.requirement_update_guard() RETURNS trigger
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
CREATE TRIGGER requirement_update_guard BEFORE UPDATE ON grants.reporting_requirement
    FOR EACH ROW EXECUTE FUNCTION grants.requirement_update_guard();
CREATE TRIGGER requirement_no_delete BEFORE DELETE ON grants.reporting_requirement
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER requirement_no_truncate BEFORE TRUNCATE ON grants.reporting_requirement
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();

-- A tranche held back by its report. Its own trigger (named to fire after disbursement_update_guard, so an
-- invalid state change is said first), so that other migrations may replace the update guard freely.
CREATE FUNCTION grants.tranche_hold_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    held record;
BEGIN
    SELECT q.id, g.reference INTO held
      FROM grants.reporting_requirement q JOIN grants.grant g ON g.id = q.grant_id
     WHERE q.grant_id = NEW.grant_id AND q.before_tranche = NEW.tranche AND q.status NOT IN ('approved', 'waived')
     ORDER BY q.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'tranche % of grant % is held back until requirement % is approved or waived',
                        NEW.tranche, held.reference, held.id
            USING ERRCODE = 'GR110',
                  DETAIL = grants.rule_detail('held_back', 'grant', held.reference,
                      jsonb_build_object('tranche', NEW.tranche, 'requirement', held.id, 'disbursement', NEW.id));
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER tranche_hold_guard BEFORE UPDATE ON grants.disbursement
    FOR EACH ROW WHEN (NEW.status IN ('attested', 'paid') AND NEW.status IS DISTINCT FROM OLD.status AND NEW.tranche IS NOT NULL)
    EXECUTE FUNCTION grants.tranche_hold_guard();

-- Settlement: the final account of a grant, recorded once. The database computes what was paid and the
-- claim (paid − spent, when positive) from the grant itself, so no writer can record another claim.
CREATE TABLE grants.settlement (
    grant_id          bigint PRIMARY KEY REFERENCES grants.grant,
    currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    spent             bigint NOT NULL CHECK (spent >= 0),
    paid              bigint NOT NULL CHECK (paid >= 0),
    claimed           bigint NOT NULL,
    -- Σ repayments received; kept by the repayment trigger.
    repaid_total      bigint NOT NULL DEFAULT 0,
    -- What closing with --write-off gave up, and why.
    written_off       bigint NOT NULL DEFAULT 0 CHECK (written_off >= 0),
    write_off_reason  text CHECK (length(write_off_reason) BETWEEN 1 AND 1000),
    settled_on        date NOT NULL,
    settled_by        text NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT claim_is_unspent_paid CHECK (claimed = greatest(paid - spent, 0)),
    CONSTRAINT repaid_within_claim CHECK (repaid_total >= 0 AND repaid_total + written_off <= claimed),
    CONSTRAINT write_off_has_reason CHECK ((written_off > 0) = (write_off_reason IS NOT NULL))
);

CREATE FUNCTION grants.settlement_insert_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g grants.grant;
    pending bigint;
BEGIN
    -- The grant's lock keeps its paid total still until this transaction ends.
    SELECT * INTO g FROM grants.grant WHERE id = NEW.grant_id FOR UPDATE;
    IF g.status = 'closed' THEN
        RAISE EXCEPTION 'grant % is closed', g.reference
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'grant', g.reference);
    END IF;
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
CREATE TRIGGER settlement_insert_guard BEFORE INSERT ON grants.settlement
    FOR EACH ROW EXECUTE FUNCTION grants.settlement_insert_guard();

CREATE FUNCTION grants.settlement_update_guard() RETURNS trigger
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
CREATE TRIGGER settlement_update_guard BEFORE UPDATE ON grants.settlement
    FOR EACH ROW EXECUTE FUNCTION grants.settlement_update_guard();
CREATE TRIGGER settlement_no_delete BEFORE DELETE ON grants.settlement
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER settlement_no_truncate BEFORE TRUNCATE ON grants.settlement
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();

-- A settled grant's paid total is the settlement's: no new tranche, payment or reversal after it.
CREATE FUNCTION grants.disbursement_after_settlement() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    settled record;
BEGIN
    SELECT g.reference, n.status INTO settled FROM new_rows n JOIN grants.settlement s ON s.grant_id = n.grant_id
      JOIN grants.grant g ON g.id = n.grant_id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'grant % is settled: no more disbursements', settled.reference
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'grant', settled.reference,
                                              jsonb_build_object('from', 'settled', 'to', settled.status));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER disbursement_after_settlement AFTER INSERT ON grants.disbursement
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.disbursement_after_settlement();

-- Repayments share the disbursements' id space, so the `disbursement_id` column of the exports names one row
-- whichever table it came from. SECURITY DEFINER: staff need no privilege on the identity's sequence.
CREATE FUNCTION grants.next_entry_id() RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT nextval(pg_get_serial_sequence('grants.disbursement', 'id'))
$$;

-- Money paid back against a settlement's claim: an incoming entry, never an edit of a payment.
CREATE TABLE grants.repayment (
    id                 bigint PRIMARY KEY DEFAULT grants.next_entry_id(),
    grant_id           bigint NOT NULL REFERENCES grants.settlement (grant_id),
    amount             bigint NOT NULL CHECK (amount > 0),
    currency           text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    received_on        date NOT NULL,
    payment_reference  text NOT NULL CHECK (length(payment_reference) BETWEEN 1 AND 1000),
    received_by        text NOT NULL,
    recorded_at        timestamptz NOT NULL DEFAULT now(),
    -- The bank's reference is the natural key of `repayment receive`: the same one again is a retry.
    UNIQUE (grant_id, payment_reference)
);
CREATE INDEX repayment_received ON grants.repayment (received_on, id);
CREATE TRIGGER repayment_append_only BEFORE UPDATE OR DELETE ON grants.repayment
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER repayment_no_truncate BEFORE TRUNCATE ON grants.repayment
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();

-- Σ received ≤ claimed (less what was written off), on the settlement row like the other running totals:
-- the settlement rows are locked in grant order first, so the excess is said from committed totals.
CREATE FUNCTION grants.settlement_totals_after_repayment() RETURNS trigger
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
        RAISE EXCEPTION 'a repayment''s currency differs from its grant''s' USING ERRCODE = '23514';
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
CREATE TRIGGER settlement_totals_after_repayment AFTER INSERT ON grants.repayment
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.settlement_totals_after_repayment();

-- Closing: the final reports approved or waived, and no open claim unless a write-off says why.
CREATE FUNCTION grants.grant_close_guard() RETURNS trigger
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
CREATE TRIGGER grant_close_guard BEFORE UPDATE ON grants.grant
    FOR EACH ROW WHEN (OLD.status = 'active' AND NEW.status = 'closed')
    EXECUTE FUNCTION grants.grant_close_guard();

-- Partnerships: an application may continue an earlier grant of the same applicant; the link never changes.
ALTER TABLE grants.application ADD COLUMN continues_grant_id bigint REFERENCES grants.grant;
CREATE INDEX application_continues ON grants.application (continues_grant_id) WHERE continues_grant_id IS NOT NULL;

CREATE FUNCTION grants.continues_same_applicant() RETURNS trigger
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
CREATE TRIGGER continues_same_applicant AFTER INSERT ON grants.application
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.continues_same_applicant();

CREATE FUNCTION grants.continues_never_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'application % keeps the grant it continues', OLD.reference
        USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'application', OLD.reference);
END
$$;
CREATE TRIGGER continues_never_changes BEFORE UPDATE OF continues_grant_id ON grants.application
    FOR EACH ROW WHEN (NEW.continues_grant_id IS DISTINCT FROM OLD.continues_grant_id)
    EXECUTE FUNCTION grants.continues_never_changes();

-- Contacts: named people at organisations. Erasure empties name, email and phone and leaves the row as a
-- tombstone; nothing else of it changes, and a tombstone never changes. Audit events name contacts by id.
CREATE TABLE grants.contact (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id  bigint NOT NULL REFERENCES grants.organisation,
    name             text CHECK (length(name) BETWEEN 1 AND 1000),
    email            text CHECK (length(email) BETWEEN 1 AND 320),
    phone            text CHECK (length(phone) BETWEEN 1 AND 64),
    role             text CHECK (length(role) BETWEEN 1 AND 1000),
    added_by         text NOT NULL,
    added_at         timestamptz NOT NULL DEFAULT now(),
    erased_at        timestamptz,
    erased_by        text,
    erasure_reason   text CHECK (length(erasure_reason) BETWEEN 1 AND 1000),
    CONSTRAINT named_until_erased CHECK ((erased_at IS NULL) = (name IS NOT NULL)),
    CONSTRAINT erased_leaves_nothing CHECK (
        erased_at IS NULL OR (email IS NULL AND phone IS NULL AND erased_by IS NOT NULL AND erasure_reason IS NOT NULL))
);
CREATE INDEX contact_organisation ON grants.contact (organisation_id);

CREATE FUNCTION grants.contact_guard() RETURNS trigger
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
CREATE TRIGGER contact_guard BEFORE UPDATE OR DELETE ON grants.contact
    FOR EACH ROW EXECUTE FUNCTION grants.contact_guard();
CREATE TRIGGER contact_no_truncate BEFORE TRUNCATE ON grants.contact
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();

-- Who acts: a person's own login writes only its own name here too (0009's triggers, on the new tables).
CREATE TRIGGER reporting_requirement_actors_are_the_login AFTER INSERT ON grants.reporting_requirement
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.inserted_actors_are_the_login('created_by', 'changed_by');
CREATE TRIGGER reporting_requirement_updated_actors_are_the_login BEFORE UPDATE OF changed_by ON grants.reporting_requirement
    FOR EACH ROW EXECUTE FUNCTION grants.updated_actors_are_the_login('changed_by');
CREATE TRIGGER settlement_actors_are_the_login AFTER INSERT ON grants.settlement
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.inserted_actors_are_the_login('settled_by');
CREATE TRIGGER repayment_actors_are_the_login AFTER INSERT ON grants.repayment
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.inserted_actors_are_the_login('received_by');
CREATE TRIGGER contact_actors_are_the_login AFTER INSERT ON grants.contact
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.inserted_actors_are_the_login('added_by');
CREATE TRIGGER contact_updated_actors_are_the_login BEFORE UPDATE OF erased_by ON grants.contact
    FOR EACH ROW EXECUTE FUNCTION grants.updated_actors_are_the_login('erased_by');

-- Privileges. apply_privileges() now also runs every grants.apply_privileges_<topic>() function, so a
-- migration that adds tables adds its own function instead of rewriting the shared one. The writers are a
-- person's own login (grants_staff) and an embedding service's (grants_service, 0009).
CREATE FUNCTION grants.apply_privileges_after_award() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    writer text;
BEGIN
    FOREACH writer IN ARRAY ARRAY['grants_staff', 'grants_service'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = writer);
        EXECUTE format('GRANT SELECT, INSERT ON grants.reporting_requirement, grants.settlement, grants.repayment, '
                       'grants.contact TO %I', writer);
        EXECUTE format('GRANT UPDATE (status, received_on, approved_on, reason, changed_by, changed_at) '
                       'ON grants.reporting_requirement TO %I', writer);
        EXECUTE format('GRANT UPDATE (written_off, write_off_reason) ON grants.settlement TO %I', writer);
        EXECUTE format('GRANT UPDATE (name, email, phone, erased_at, erased_by, erasure_reason) ON grants.contact TO %I',
                       writer);
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grants_finance') THEN
        GRANT SELECT ON grants.reporting_requirement, grants.settlement, grants.repayment, grants.contact TO grants_finance;
    END IF;
END
$$;
REVOKE ALL ON FUNCTION grants.apply_privileges_after_award() FROM PUBLIC;

CREATE OR REPLACE FUNCTION grants.apply_privileges() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    writer text;
    topic regprocedure;
BEGIN
    FOREACH writer IN ARRAY ARRAY['grants_staff', 'grants_service'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = writer);
        EXECUTE format('GRANT USAGE ON SCHEMA grants TO %I', writer);
        EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA grants TO %I', writer);
        EXECUTE format(
            'GRANT INSERT ON grants.programme, grants.allocation_round, grants.organisation, grants.theme, '
            'grants.application, grants.application_partner, grants.application_theme, grants.approval, '
            'grants.grant, grants.grant_amendment, grants.disbursement, grants.idempotency_key, '
            'grants.audit_event, grants.conflict_of_interest TO %I', writer);
        EXECUTE format('GRANT UPDATE (status, decided_on, closed_at) ON grants.allocation_round TO %I', writer);
        EXECUTE format('GRANT UPDATE (status) ON grants.application TO %I', writer);
        EXECUTE format('GRANT UPDATE (status, reclaimed, closed_on, closed_by) ON grants.grant TO %I', writer);
        EXECUTE format(
            'GRANT UPDATE (status, attested_by, attested_at, paid_on, payment_reference, paid_by, cancelled_by, '
            'cancelled_at, reason) ON grants.disbursement TO %I', writer);
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grants_finance') THEN
        GRANT USAGE ON SCHEMA grants TO grants_finance;
        GRANT SELECT ON ALL TABLES IN SCHEMA grants TO grants_finance;
    END IF;
    FOR topic IN
        SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'grants' AND p.proname LIKE 'apply\_privileges\_%' AND p.pronargs = 0
         ORDER BY p.proname
    LOOP
        EXECUTE format('SELECT %s', topic);
    END LOOP;
END
$$;
SELECT grants.apply_privileges();
