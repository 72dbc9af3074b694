-- Every live rule function in one place (0003 wrote them, 0005 replaced some), now raising with a
-- structured DETAIL: a JSON object naming the rule and what it is about, so that the library turns a rule
-- the database enforces into the same typed error as its own check ahead of it. The CHECK constraints of
-- 0002 stay as the last line of defence; these functions raise first and say more.
--
-- SQLSTATEs: GR001 append-only (never changes), GR002 invalid state change, GR003 closed,
-- GR004 invalid reversal; 23514 with CONSTRAINT round_within_budget | disbursements_within_award | four_eyes.
-- DETAIL keys: rule, entity, key, and per rule: from, to (GR002), excess and currency (money rules), actor.

CREATE FUNCTION grants.rule_detail(rule text, entity text, key text, extra jsonb DEFAULT '{}') RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT (jsonb_build_object('rule', rule, 'entity', entity, 'key', key) || extra)::text
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

-- Σ awarded of a round ≤ its budget, said with the excess before the CHECK would say it without.
CREATE FUNCTION grants.check_round_budgets(deltas jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    over record;
BEGIN
    -- Lock first (in id order, as every writer does), so that the totals read next are the committed ones
    -- even when another writer's award was in flight: then the excess is said exactly, never by a bare CHECK.
    -- NO KEY UPDATE, the lock the UPDATE below takes anyway: it does not wait on the KEY SHARE locks that
    -- concurrent grant inserts hold through their foreign key to the round (FOR UPDATE would deadlock there).
    PERFORM 1 FROM grants.allocation_round
      WHERE id IN (SELECT (key)::bigint FROM jsonb_each_text(deltas)) ORDER BY id FOR NO KEY UPDATE;
    SELECT r.name, r.currency, r.awarded_total + (d.value)::bigint - r.budget AS excess INTO over
      FROM jsonb_each_text(deltas) d JOIN grants.allocation_round r ON r.id = (d.key)::bigint
     WHERE r.awarded_total + (d.value)::bigint > r.budget
     ORDER BY r.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'round %: the budget would be exceeded', over.name
            USING ERRCODE = '23514', CONSTRAINT = 'round_within_budget', TABLE = 'allocation_round', SCHEMA = 'grants',
                  DETAIL = grants.rule_detail('budget_exceeded', 'round', over.name,
                                              jsonb_build_object('excess', over.excess, 'currency', over.currency));
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION grants.round_totals_after_grant_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    deltas jsonb;
    closed_round text;
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows
               WHERE amount <> original_amount OR ends_on <> original_ends_on OR committed_total <> 0 OR paid_total <> 0
                  OR status <> 'active') THEN
        RAISE EXCEPTION 'a new grant starts active with its original award and no disbursements'
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

CREATE OR REPLACE FUNCTION grants.round_totals_after_grant_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    deltas jsonb;
BEGIN
    SELECT jsonb_object_agg(round_id, delta) INTO deltas
      FROM (SELECT n.round_id, sum(n.amount - o.amount)::bigint AS delta
              FROM new_rows n JOIN old_rows o ON o.id = n.id GROUP BY n.round_id) AS d
     WHERE delta > 0;
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

-- Disbursements: scheduled → attested → paid; scheduled | attested → cancelled; a paid one is corrected
-- only by a new 'reversal' row that points at it. Four-eyes is said here before the CHECK says it.
CREATE OR REPLACE FUNCTION grants.disbursement_update_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('paid', 'reversal') THEN
        RAISE EXCEPTION 'disbursement % is %: it is never updated; reverse it instead', OLD.id, OLD.status
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'disbursement', OLD.id::text);
    END IF;
    IF NOT ((OLD.status = 'scheduled' AND NEW.status IN ('attested', 'cancelled'))
         OR (OLD.status = 'attested' AND NEW.status IN ('paid', 'cancelled'))) THEN
        RAISE EXCEPTION 'disbursement % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'disbursement', OLD.id::text,
                                              jsonb_build_object('from', OLD.status, 'to', NEW.status));
    END IF;
    IF (NEW.grant_id, NEW.amount, NEW.currency, NEW.due_on, NEW.tranche, NEW.reverses_id, NEW.scheduled_by, NEW.scheduled_at)
        IS DISTINCT FROM (OLD.grant_id, OLD.amount, OLD.currency, OLD.due_on, OLD.tranche, OLD.reverses_id,
        OLD.scheduled_by, OLD.scheduled_at) THEN
        RAISE EXCEPTION 'disbursement % keeps its grant, amount and due date; cancel it and schedule anew', OLD.id
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'disbursement', OLD.id::text);
    END IF;
    IF NEW.attested_by IS NOT NULL AND NEW.attested_by = NEW.scheduled_by THEN
        RAISE EXCEPTION 'four-eyes: % scheduled disbursement % and cannot also attest it', NEW.attested_by, OLD.id
            USING ERRCODE = '23514', CONSTRAINT = 'four_eyes', TABLE = 'disbursement', SCHEMA = 'grants',
                  DETAIL = grants.rule_detail('four_eyes', 'disbursement', OLD.id::text,
                                              jsonb_build_object('actor', NEW.attested_by));
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION grants.grant_totals_after_disbursement_insert() RETURNS trigger
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
    IF EXISTS (SELECT 1 FROM new_rows n JOIN grants.grant g ON g.id = n.grant_id WHERE n.currency <> g.currency) THEN
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
