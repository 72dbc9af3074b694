-- State machines and running totals: the guards that let rounds, applications, grants and disbursements
-- change only as their state machines allow (GR002), keep recorded money append-only (GR001), and move the
-- totals on the parent rows. The current definitions; the triggers that call them are in the migrations.

CREATE OR REPLACE FUNCTION grants.luhn_valid(digits text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT digits ~ '^[0-9]+$' AND (
        SELECT sum(CASE WHEN d > 9 THEN d - 9 ELSE d END) % 10 = 0
        FROM (
            SELECT substr(digits, i, 1)::int * CASE WHEN (length(digits) - i) % 2 = 1 THEN 2 ELSE 1 END AS d
            FROM generate_series(1, length(digits)) AS i
        ) AS weighted
    )
$$;

-- organisationsnummer: NNNNNN-NNNN, Luhn check digit over the first nine, digits 3-4 at least 20.
CREATE OR REPLACE FUNCTION grants.org_number_valid(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT value ~ '^[0-9]{6}-[0-9]{4}$'
       AND substr(value, 3, 2)::int >= 20
       AND grants.luhn_valid(replace(value, '-', ''))
$$;

-- An organisation identifier in an SE-ON- form names a Swedish organisation by its organisationsnummer: the ten
-- digits must be one (digits 3-4 at least 20, Luhn check digit). Any other identifier (SE-0, XM-DAC-…) passes;
-- NULL (not set) too.
CREATE OR REPLACE FUNCTION grants.org_id_number_valid(ref text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT ref IS NULL OR left(ref, 6) <> 'SE-ON-'
        OR (substr(ref, 7) ~ '^[0-9]{10}$'
            AND grants.org_number_valid(substr(ref, 7, 6) || '-' || substr(ref, 13, 4)))
$$;

-- IATI OrganisationType, active codes (the same set as IATICodes.organisationType in Swift; a test keeps them equal).
CREATE OR REPLACE FUNCTION grants.iati_organisation_type(code text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT code = ANY (ARRAY['10', '11', '15', '21', '22', '23', '24', '30', '40', '60', '70', '71', '72', '73', '80', '90'])
$$;

CREATE OR REPLACE FUNCTION grants.apply_amendment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE grants.grant
       SET amount = amount + NEW.amount_change,
           ends_on = coalesce(NEW.new_ends_on, ends_on)
     WHERE id = NEW.grant_id;
    RETURN NULL;
END
$$;

-- What a disbursement contributes to its grant's committed and paid totals.
CREATE OR REPLACE FUNCTION grants.committed_part(status text, amount bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN status = 'cancelled' THEN 0 ELSE amount END $$;

CREATE OR REPLACE FUNCTION grants.grant_totals_after_disbursement_update() RETURNS trigger
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

CREATE OR REPLACE FUNCTION grants.paid_part(status text, amount bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN status IN ('paid', 'reversal') THEN amount ELSE 0 END $$;

-- Applications: submitted → approved | rejected | withdrawn.
CREATE OR REPLACE FUNCTION grants.application_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'applications are never deleted; withdraw instead'
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'application', OLD.reference);
    END IF;
    IF NEW.status <> OLD.status AND NOT (OLD.status = 'submitted' AND NEW.status IN ('approved', 'rejected', 'withdrawn')) THEN
        RAISE EXCEPTION 'application % cannot go from % to %', OLD.reference, OLD.status, NEW.status
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'application', OLD.reference,
                                              jsonb_build_object('from', OLD.status, 'to', NEW.status));
    END IF;
    IF (NEW.reference, NEW.round_id, NEW.applicant_id, NEW.requested, NEW.currency)
        IS DISTINCT FROM (OLD.reference, OLD.round_id, OLD.applicant_id, OLD.requested, OLD.currency) THEN
        RAISE EXCEPTION 'application % is a record of what was applied for: it does not change', OLD.reference
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'application', OLD.reference);
    END IF;
    RETURN NEW;
END
$$;

-- Σ awarded of a round ≤ its budget, said with the excess before the CHECK would say it without.
CREATE OR REPLACE FUNCTION grants.check_round_budgets(deltas jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    over record;
BEGIN
    IF deltas IS NULL OR deltas = '{}'::jsonb THEN
        RETURN;
    END IF;
    -- Locked in id order, as every writer does, and read in the same statement: a row whose lock was awaited is
    -- read as the writer that held it committed it (READ COMMITTED reads the newest version of a row it locks),
    -- so the totals compared are the committed ones even when another writer's award was in flight: the excess
    -- is said exactly, never by a bare CHECK. The first round over its budget, in id order, is refused.
    -- NO KEY UPDATE, the lock the caller's UPDATE takes next anyway: it does not wait on the KEY SHARE locks that
    -- concurrent grant inserts hold through their foreign key to the round (FOR UPDATE would deadlock there).
    FOR over IN
        SELECT r.name, r.currency, r.awarded_total + (d.value)::bigint - r.budget AS excess
          FROM grants.allocation_round r JOIN jsonb_each_text(deltas) d ON r.id = (d.key)::bigint
         ORDER BY r.id FOR NO KEY UPDATE OF r
    LOOP
        IF over.excess > 0 THEN
            RAISE EXCEPTION 'round %: the budget would be exceeded', over.name
                USING ERRCODE = '23514', CONSTRAINT = 'round_within_budget', TABLE = 'allocation_round', SCHEMA = 'grants',
                      DETAIL = grants.rule_detail('budget_exceeded', 'round', over.name,
                                                  jsonb_build_object('excess', over.excess, 'currency', over.currency));
        END IF;
    END LOOP;
END
$$;

-- Grants: active → closed; the original award never changes (amendments move `amount`).
CREATE OR REPLACE FUNCTION grants.grant_update_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'closed' THEN
        RAISE EXCEPTION 'grant % is closed', OLD.reference
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'grant', OLD.reference);
    END IF;
    IF (NEW.application_id, NEW.programme_id, NEW.round_id, NEW.reference, NEW.original_amount, NEW.currency,
        NEW.starts_on, NEW.original_ends_on)
        IS DISTINCT FROM (OLD.application_id, OLD.programme_id, OLD.round_id, OLD.reference, OLD.original_amount,
        OLD.currency, OLD.starts_on, OLD.original_ends_on) THEN
        RAISE EXCEPTION 'the original award of grant % never changes; amend it instead', OLD.reference
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'grant', OLD.reference);
    END IF;
    IF NEW.committed_total > NEW.amount THEN
        RAISE EXCEPTION 'grant %: disbursements would exceed the award', OLD.reference
            USING ERRCODE = '23514', CONSTRAINT = 'disbursements_within_award', TABLE = 'grant', SCHEMA = 'grants',
                  DETAIL = grants.rule_detail('award_exceeded', 'grant', OLD.reference,
                      jsonb_build_object('excess', NEW.committed_total - NEW.amount, 'currency', NEW.currency));
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION grants.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'GR001', TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA,
              DETAIL = grants.rule_detail('append_only', TG_TABLE_NAME,
                                          CASE WHEN TG_LEVEL = 'ROW' THEN (to_jsonb(OLD) ->> 'id') END);
END
$$;

-- Rounds: open → closed; the totals are only moved by the triggers below.
CREATE OR REPLACE FUNCTION grants.round_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'closed' AND NEW.status = 'closed' AND NEW.awarded_total <> OLD.awarded_total THEN
        RAISE EXCEPTION 'round % is closed: its awards cannot change', OLD.name
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'round', OLD.name);
    END IF;
    IF OLD.status = 'closed' AND NEW.status <> 'closed' THEN
        RAISE EXCEPTION 'round % cannot go from closed to %', OLD.name, NEW.status
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'round', OLD.name,
                                              jsonb_build_object('from', OLD.status, 'to', NEW.status));
    END IF;
    IF NEW.programme_id <> OLD.programme_id OR NEW.currency <> OLD.currency THEN
        RAISE EXCEPTION 'a round''s programme and currency never change'
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'round', OLD.name);
    END IF;
    RETURN NEW;
END
$$;

-- Amendments move a grant's award, and the round's awarded total with it. Most updates of a grant move no award
-- (its disbursement totals, its closing): those end after one statement.
CREATE OR REPLACE FUNCTION grants.round_totals_after_grant_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    deltas jsonb;
    moved bigint;
BEGIN
    SELECT jsonb_object_agg(round_id, delta) FILTER (WHERE delta > 0), count(*) FILTER (WHERE delta <> 0)
      INTO deltas, moved
      FROM (SELECT n.round_id, sum(n.amount - o.amount)::bigint AS delta
              FROM new_rows n JOIN old_rows o ON o.id = n.id GROUP BY n.round_id) AS d;
    IF moved = 0 THEN
        RETURN NULL;
    END IF;
    PERFORM grants.check_round_budgets(coalesce(deltas, '{}'));
    UPDATE grants.allocation_round r
       SET awarded_total = r.awarded_total + d.delta
      FROM (SELECT n.round_id, sum(n.amount - o.amount)::bigint AS delta
              FROM new_rows n JOIN old_rows o ON o.id = n.id
             GROUP BY n.round_id) AS d
     WHERE r.id = d.round_id AND d.delta <> 0;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION grants.rule_detail(rule text, entity text, key text, extra jsonb DEFAULT '{}') RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT (jsonb_build_object('rule', rule, 'entity', entity, 'key', key) || extra)::text
$$;
