-- The rules that must never break, enforced by the database itself so that every writer (this library,
-- another service, psql) is held to them, under any number of concurrent transactions:
--   * Σ awarded of a round ≤ its budget              (allocation_round.round_within_budget)
--   * Σ non-cancelled disbursements ≤ the award      (grant.disbursements_within_award)
--   * paid disbursements, reversals, approvals, amendments and audit events are never updated or deleted
--   * state changes follow the state machines below
-- Running totals live on the parent row, updated in the same statement as the child rows: the UPDATE
-- takes the parent's row lock, so concurrent writers queue on it and each sees the committed total.
-- Trigger functions are SECURITY DEFINER so that roles without UPDATE on the totals still move them.
-- Custom SQLSTATEs: GR001 immutable, GR002 invalid state change, GR003 closed, GR004 invalid reversal.

CREATE FUNCTION grants.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'GR001', TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA;
END
$$;

-- Audit events, approvals and amendments: append-only.
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON grants.audit_event
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON grants.audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER approval_append_only BEFORE UPDATE OR DELETE ON grants.approval
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER amendment_append_only BEFORE UPDATE OR DELETE ON grants.grant_amendment
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER disbursement_no_delete BEFORE DELETE ON grants.disbursement
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER money_no_truncate BEFORE TRUNCATE ON grants.disbursement
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER grant_no_truncate BEFORE TRUNCATE ON grants.grant
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER grant_no_delete BEFORE DELETE ON grants.grant
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_change();

-- Rounds: open → closed; the totals are only moved by the triggers below.
CREATE FUNCTION grants.round_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'closed' AND NEW.status = 'closed' AND NEW.awarded_total <> OLD.awarded_total THEN
        RAISE EXCEPTION 'round % is closed: its awards cannot change', OLD.name USING ERRCODE = 'GR003';
    END IF;
    IF OLD.status = 'closed' AND NEW.status <> 'closed' THEN
        RAISE EXCEPTION 'round % cannot go from closed to %', OLD.name, NEW.status USING ERRCODE = 'GR002';
    END IF;
    IF NEW.programme_id <> OLD.programme_id OR NEW.currency <> OLD.currency THEN
        RAISE EXCEPTION 'a round''s programme and currency never change' USING ERRCODE = 'GR001';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER round_guard BEFORE UPDATE ON grants.allocation_round
    FOR EACH ROW EXECUTE FUNCTION grants.round_guard();

-- Applications: submitted → approved | rejected | withdrawn.
CREATE FUNCTION grants.application_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'applications are never deleted; withdraw instead' USING ERRCODE = 'GR001';
    END IF;
    IF NEW.status <> OLD.status AND NOT (OLD.status = 'submitted' AND NEW.status IN ('approved', 'rejected', 'withdrawn')) THEN
        RAISE EXCEPTION 'application % cannot go from % to %', OLD.reference, OLD.status, NEW.status
            USING ERRCODE = 'GR002';
    END IF;
    IF (NEW.reference, NEW.round_id, NEW.applicant_id, NEW.requested, NEW.currency)
        IS DISTINCT FROM (OLD.reference, OLD.round_id, OLD.applicant_id, OLD.requested, OLD.currency) THEN
        RAISE EXCEPTION 'application % is a record of what was applied for: it does not change', OLD.reference
            USING ERRCODE = 'GR001';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER application_guard BEFORE UPDATE OR DELETE ON grants.application
    FOR EACH ROW EXECUTE FUNCTION grants.application_guard();

-- Grants: an award enters its round's total when it is inserted; amendments move both.
CREATE FUNCTION grants.grant_insert_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.amount <> NEW.original_amount OR NEW.ends_on <> NEW.original_ends_on
       OR NEW.committed_total <> 0 OR NEW.paid_total <> 0 OR NEW.status <> 'active' THEN
        RAISE EXCEPTION 'a new grant starts active with its original award and no disbursements' USING ERRCODE = 'GR002';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER grant_insert_guard BEFORE INSERT ON grants.grant
    FOR EACH ROW EXECUTE FUNCTION grants.grant_insert_guard();

CREATE FUNCTION grants.grant_update_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'closed' THEN
        RAISE EXCEPTION 'grant % is closed', OLD.reference USING ERRCODE = 'GR003';
    END IF;
    IF (NEW.application_id, NEW.programme_id, NEW.round_id, NEW.reference, NEW.original_amount, NEW.currency,
        NEW.starts_on, NEW.original_ends_on)
        IS DISTINCT FROM (OLD.application_id, OLD.programme_id, OLD.round_id, OLD.reference, OLD.original_amount,
        OLD.currency, OLD.starts_on, OLD.original_ends_on) THEN
        RAISE EXCEPTION 'the original award of grant % never changes; amend it instead', OLD.reference
            USING ERRCODE = 'GR001';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER grant_update_guard BEFORE UPDATE ON grants.grant
    FOR EACH ROW EXECUTE FUNCTION grants.grant_update_guard();

CREATE FUNCTION grants.round_totals_after_grant_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
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
CREATE TRIGGER round_totals_after_grant_insert AFTER INSERT ON grants.grant
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.round_totals_after_grant_insert();

CREATE FUNCTION grants.round_totals_after_grant_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE grants.allocation_round r
       SET awarded_total = r.awarded_total + d.delta
      FROM (SELECT n.round_id, sum(n.amount - o.amount)::bigint AS delta
              FROM new_rows n JOIN old_rows o ON o.id = n.id
             GROUP BY n.round_id) AS d
     WHERE r.id = d.round_id AND d.delta <> 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER round_totals_after_grant_update AFTER UPDATE ON grants.grant
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.round_totals_after_grant_update();

CREATE FUNCTION grants.apply_amendment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE grants.grant
       SET amount = amount + NEW.amount_change,
           ends_on = coalesce(NEW.new_ends_on, ends_on)
     WHERE id = NEW.grant_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER apply_amendment AFTER INSERT ON grants.grant_amendment
    FOR EACH ROW EXECUTE FUNCTION grants.apply_amendment();

-- Disbursements: scheduled → attested → paid; scheduled | attested → cancelled; a paid one is corrected
-- only by a new 'reversal' row that points at it.
CREATE FUNCTION grants.disbursement_insert_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    g grants.grant;
    original grants.disbursement;
BEGIN
    SELECT * INTO g FROM grants.grant WHERE id = NEW.grant_id;
    IF g.status = 'closed' THEN
        RAISE EXCEPTION 'grant % is closed', g.reference USING ERRCODE = 'GR003';
    END IF;
    IF NEW.currency <> g.currency THEN
        RAISE EXCEPTION 'disbursement currency % differs from the grant''s %', NEW.currency, g.currency
            USING ERRCODE = '23514';
    END IF;
    IF NEW.status = 'reversal' THEN
        SELECT * INTO original FROM grants.disbursement WHERE id = NEW.reverses_id;
        IF original.status IS DISTINCT FROM 'paid' OR original.grant_id <> NEW.grant_id OR NEW.amount <> -original.amount THEN
            RAISE EXCEPTION 'a reversal negates one paid disbursement of the same grant' USING ERRCODE = 'GR004';
        END IF;
    ELSIF NEW.status <> 'scheduled' OR NEW.attested_by IS NOT NULL OR NEW.paid_on IS NOT NULL THEN
        RAISE EXCEPTION 'a disbursement starts scheduled' USING ERRCODE = 'GR002';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER disbursement_insert_guard BEFORE INSERT ON grants.disbursement
    FOR EACH ROW EXECUTE FUNCTION grants.disbursement_insert_guard();

CREATE FUNCTION grants.disbursement_update_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('paid', 'reversal') THEN
        RAISE EXCEPTION 'disbursement % is %: it is never updated; reverse it instead', OLD.id, OLD.status
            USING ERRCODE = 'GR001';
    END IF;
    IF NOT ((OLD.status = 'scheduled' AND NEW.status IN ('attested', 'cancelled'))
         OR (OLD.status = 'attested' AND NEW.status IN ('paid', 'cancelled'))) THEN
        RAISE EXCEPTION 'disbursement % cannot go from % to %', OLD.id, OLD.status, NEW.status USING ERRCODE = 'GR002';
    END IF;
    IF (NEW.grant_id, NEW.amount, NEW.currency, NEW.due_on, NEW.tranche, NEW.reverses_id, NEW.scheduled_by, NEW.scheduled_at)
        IS DISTINCT FROM (OLD.grant_id, OLD.amount, OLD.currency, OLD.due_on, OLD.tranche, OLD.reverses_id,
        OLD.scheduled_by, OLD.scheduled_at) THEN
        RAISE EXCEPTION 'disbursement % keeps its grant, amount and due date; cancel it and schedule anew', OLD.id
            USING ERRCODE = 'GR001';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER disbursement_update_guard BEFORE UPDATE ON grants.disbursement
    FOR EACH ROW EXECUTE FUNCTION grants.disbursement_update_guard();

-- What a disbursement contributes to its grant's committed and paid totals.
CREATE FUNCTION grants.committed_part(status text, amount bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN status = 'cancelled' THEN 0 ELSE amount END $$;
CREATE FUNCTION grants.paid_part(status text, amount bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN status IN ('paid', 'reversal') THEN amount ELSE 0 END $$;

CREATE FUNCTION grants.grant_totals_after_disbursement_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
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
CREATE TRIGGER grant_totals_after_disbursement_insert AFTER INSERT ON grants.disbursement
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.grant_totals_after_disbursement_insert();

CREATE FUNCTION grants.grant_totals_after_disbursement_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE grants.grant g
       SET committed_total = g.committed_total + d.committed,
           paid_total = g.paid_total + d.paid
      FROM (SELECT n.grant_id,
                   sum(grants.committed_part(n.status, n.amount) - grants.committed_part(o.status, o.amount))::bigint AS committed,
                   sum(grants.paid_part(n.status, n.amount) - grants.paid_part(o.status, o.amount))::bigint AS paid
              FROM new_rows n JOIN old_rows o ON o.id = n.id
             GROUP BY n.grant_id) AS d
     WHERE g.id = d.grant_id AND (d.committed <> 0 OR d.paid <> 0);
    RETURN NULL;
END
$$;
CREATE TRIGGER grant_totals_after_disbursement_update AFTER UPDATE ON grants.disbursement
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.grant_totals_after_disbursement_update();
