-- Disbursements' API (DESIGN §4, §10): schedule, attest, pay, cancel, reverse. Each resolves who acts with
-- grants.acting_person, locks the grant and then the disbursement (the fixed order: round, grant,
-- disbursement), refuses a person with a declared conflict of interest with the applicant or a partner,
-- checks the rules in the order the library always has, writes, audits, and returns the disbursement's row
-- (grants.disbursement_row). The same request again is a retry: it returns the row and writes nothing.
-- The triggers (four-eyes, award, hold, settlement, state machine) stay the last word for every writer.
--
-- SQLSTATEs as DatabaseRules.swift maps them: GR002 invalid transition, GR003 closed, GR006 conflict of
-- interest, GR007 not found, GR008 invalid input, GR009 conflict with what is recorded (DETAIL also lists every
-- difference under "differences"), GR010 unknown person, GR110 held back, GR120 dated inside a closed period
-- (the triggers of Schema/rules/periods.sql), 23514 four_eyes |
-- disbursements_within_award.

-- (A conflict listing its differences: grants.refuse_differences, Schema/rules/reference.sql.)


-- Free text the library checks at the door (Limits.text): required, not only white space, at most 1000 characters.
CREATE OR REPLACE FUNCTION grants.check_text(entity text, key text, location text, value text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF value IS NULL THEN
        PERFORM grants.refuse_input(entity, key, location, 'is required');
    ELSIF length(value) > 1000 THEN
        PERFORM grants.refuse_input(entity, key, location, 'must be at most 1000 characters');
    ELSIF value ~ '^[[:space:]]*$' THEN
        PERFORM grants.refuse_input(entity, key, location, 'must not be empty');
    ELSE
        PERFORM grants.check_no_control(entity, key, location, value);
    END IF;
END
$$;

-- A date the library refuses when it is after today (CalendarDate.notInTheFuture).
CREATE OR REPLACE FUNCTION grants.check_not_in_the_future(entity text, key text, location text, value date) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF value IS NULL THEN
        PERFORM grants.refuse_input(entity, key, location, 'is required');
    ELSIF value > current_date THEN
        PERFORM grants.refuse_input(entity, key, location,
            format('%s is in the future (today is %s)', to_char(value, 'YYYY-MM-DD'), to_char(current_date, 'YYYY-MM-DD')));
    END IF;
END
$$;

-- The disbursement `p_id`, locked after its grant; GR007 when there is none.
CREATE OR REPLACE FUNCTION grants.locked_disbursement(p_id bigint) RETURNS grants.disbursement
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d grants.disbursement;
BEGIN
    PERFORM 1 FROM grants.grant g WHERE g.id = (SELECT x.grant_id FROM grants.disbursement x WHERE x.id = p_id) FOR UPDATE;
    SELECT * INTO d FROM grants.disbursement x WHERE x.id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM grants.refuse_not_found('disbursement', coalesce(p_id::text, ''));
    END IF;
    RETURN d;
END
$$;

-- Refuses `actor` for anything about the grant `p_grant_id` when they declared a conflict with its applicant
-- or a partner (GR006).
CREATE OR REPLACE FUNCTION grants.refuse_conflicted(actor text, p_grant_id bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    conflict record;
BEGIN
    -- Most people have declared no conflict at all: one probe of the person's index answers for them.
    IF NOT EXISTS (SELECT 1 FROM grants.conflict_of_interest x WHERE x.person = grants.actor_name(actor)) THEN
        RETURN;
    END IF;
    SELECT c.person, c.organisation INTO conflict
      FROM grants.grant g CROSS JOIN LATERAL grants.declared_conflict(actor, g.application_id) c
     WHERE g.id = p_grant_id;
    IF FOUND THEN
        PERFORM grants.refuse_conflict(conflict.person, conflict.organisation);
    END IF;
END
$$;

-- Refuses a step of a disbursement's state machine that it does not allow (GR002), as DisbursementStatus does.
CREATE OR REPLACE FUNCTION grants.check_disbursement_transition(d grants.disbursement, target text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT ((d.status = 'scheduled' AND target IN ('attested', 'cancelled'))
         OR (d.status = 'attested' AND target IN ('paid', 'cancelled'))) THEN
        RAISE EXCEPTION 'disbursement % cannot go from % to %', d.id, d.status, target
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'disbursement', d.id::text,
                                              jsonb_build_object('from', d.status, 'to', target));
    END IF;
END
$$;

-- The requirement that holds tranche `d` back, said before the trigger would (GR110).
CREATE OR REPLACE FUNCTION grants.refuse_held(d grants.disbursement) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    held record;
BEGIN
    SELECT q.id, g.reference INTO held
      FROM grants.reporting_requirement q JOIN grants.grant g ON g.id = q.grant_id
     WHERE q.grant_id = d.grant_id AND q.before_tranche <= d.tranche AND q.status NOT IN ('approved', 'waived')
     ORDER BY q.before_tranche, q.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'tranche % of grant % is held back until requirement % is approved or waived',
                        d.tranche, held.reference, held.id
            USING ERRCODE = 'GR110',
                  DETAIL = grants.rule_detail('held_back', 'grant', held.reference,
                      jsonb_build_object('tranche', d.tranche, 'requirement', held.id, 'disbursement', d.id));
    END IF;
END
$$;

-- Refuses a step on a settled grant (GR002, from settled), said before the triggers would.
CREATE OR REPLACE FUNCTION grants.refuse_settled(p_grant_id bigint, target text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ref text;
BEGIN
    SELECT g.reference INTO ref FROM grants.settlement s JOIN grants.grant g ON g.id = s.grant_id WHERE s.grant_id = p_grant_id;
    IF FOUND THEN
        RAISE EXCEPTION 'grant % is settled: no more disbursements', ref
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'grant', ref,
                                              jsonb_build_object('from', 'settled', 'to', target));
    END IF;
END
$$;

-- Schedules a tranche of an active grant. With an idempotency key, the same request again returns the
-- disbursement it made (p_request is the library's canonical text of the request). Tranches are numbered 1,
-- 2, … per grant: p_tranche defaults to one past the highest number not cancelled.
CREATE OR REPLACE FUNCTION grants_api.schedule(
    p_reference text, p_programme text, p_amount bigint, p_currency text, p_amount_text text, p_due_on date,
    p_tranche int, p_idempotency_key text, p_request text, p_actor text DEFAULT NULL)
RETURNS SETOF grants.disbursement_row
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    matches int := 0;
    earlier record;
    gr record;
    holder bigint;
    tranche_number int;
    disbursement_id bigint;
BEGIN
    IF p_amount IS NULL OR p_amount <= 0 THEN
        PERFORM grants.refuse_input('grant', coalesce(p_reference, ''), 'amount', 'must be positive');
    END IF;
    IF p_tranche IS NOT NULL AND p_tranche < 1 THEN
        PERFORM grants.refuse_input('grant', coalesce(p_reference, ''), 'tranche', 'a tranche number is 1 or more');
    END IF;
    IF p_due_on IS NULL THEN
        PERFORM grants.refuse_input('grant', coalesce(p_reference, ''), 'due_on', 'is required');
    END IF;
    IF p_idempotency_key IS NOT NULL THEN
        SELECT k.operation, k.request, k.result INTO earlier FROM grants.idempotency_key k WHERE k.key = p_idempotency_key;
        IF FOUND THEN
            IF earlier.operation <> 'disbursement.schedule' OR earlier.request IS DISTINCT FROM p_request THEN
                RAISE EXCEPTION 'idempotency key % was used for another request', p_idempotency_key
                    USING ERRCODE = 'GR009',
                          DETAIL = grants.rule_detail('conflict', 'idempotency key', p_idempotency_key,
                              jsonb_build_object('field', 'request', 'recorded', earlier.operation || ' ' || earlier.request,
                                                 'given', 'disbursement.schedule ' || coalesce(p_request, '')));
            END IF;
            RETURN QUERY SELECT * FROM grants.disbursement_row v WHERE v.id = earlier.result::bigint;
            RETURN;
        END IF;
    END IF;

    -- Only the grant is locked: scheduling never moves the round's totals.
    FOR gr IN
        SELECT g.id, g.status, g.application_id, g.currency, g.starts_on, g.ends_on, g.amount, g.committed_total
          FROM grants.grant g JOIN grants.programme p ON p.id = g.programme_id
         WHERE g.reference = p_reference AND (p_programme IS NULL OR p.name = p_programme)
           FOR UPDATE OF g
    LOOP
        matches := matches + 1;
    END LOOP;
    IF matches = 0 THEN PERFORM grants.refuse_not_found('grant', coalesce(p_reference, '')); END IF;
    IF matches > 1 THEN PERFORM grants.refuse_ambiguous('grant', p_reference); END IF;

    IF gr.status <> 'active' THEN
        RAISE EXCEPTION 'grant % is closed', p_reference
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'grant', p_reference);
    END IF;
    PERFORM grants.refuse_conflicted(actor, gr.id);
    IF p_currency IS DISTINCT FROM gr.currency THEN
        PERFORM grants.refuse_input('grant', p_reference, 'amount', format('the grant is in %s', gr.currency));
    END IF;
    IF p_due_on < gr.starts_on OR p_due_on > gr.ends_on THEN
        PERFORM grants.refuse_input('grant', p_reference, 'due_on',
            format('%s is outside the grant''s period %s to %s', to_char(p_due_on, 'YYYY-MM-DD'),
                   to_char(gr.starts_on, 'YYYY-MM-DD'), to_char(gr.ends_on, 'YYYY-MM-DD')));
    END IF;
    -- A later statement than the grant's lock: a settlement committed while it was awaited is seen.
    IF EXISTS (SELECT 1 FROM grants.settlement s WHERE s.grant_id = gr.id) THEN
        RAISE EXCEPTION 'grant % is settled: no new tranches', p_reference
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'grant', p_reference,
                                              jsonb_build_object('from', 'settled', 'to', 'scheduled'));
    END IF;

    -- Tranches are numbered 1, 2, … per grant; a cancelled one gives its number back.
    IF p_tranche IS NULL THEN
        SELECT coalesce(max(d.tranche), 0) + 1 INTO tranche_number FROM grants.disbursement d
         WHERE d.grant_id = gr.id AND d.status <> 'cancelled';
    ELSE
        SELECT d.id INTO holder FROM grants.disbursement d
         WHERE d.grant_id = gr.id AND d.tranche = p_tranche AND d.status NOT IN ('cancelled', 'reversal')
         ORDER BY d.id LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'grant %: tranche % is disbursement %', p_reference, p_tranche, holder
                USING ERRCODE = 'GR009',
                      DETAIL = grants.rule_detail('conflict', 'grant', p_reference,
                          jsonb_build_object('field', 'tranche', 'recorded', format('tranche %s is disbursement %s', p_tranche, holder),
                                             'given', format('tranche %s', p_tranche)));
        END IF;
        tranche_number := p_tranche;
    END IF;

    -- Said here with the grant's reference; the grant's own trigger holds the rule for every writer.
    IF gr.committed_total::numeric + p_amount > gr.amount THEN
        RAISE EXCEPTION 'grant %: disbursements would exceed the award', p_reference
            USING ERRCODE = '23514', CONSTRAINT = 'disbursements_within_award', TABLE = 'grant', SCHEMA = 'grants',
                  DETAIL = grants.rule_detail('award_exceeded', 'grant', p_reference,
                      jsonb_build_object('excess', least(gr.committed_total::numeric + p_amount - gr.amount, 9223372036854775807),
                                         'currency', gr.currency));
    END IF;

    INSERT INTO grants.disbursement (grant_id, amount, currency, due_on, tranche, scheduled_by)
    VALUES (gr.id, p_amount, p_currency, p_due_on, tranche_number, actor)
    RETURNING id INTO disbursement_id;
    IF p_idempotency_key IS NOT NULL THEN
        -- A concurrent request with the same key fails here on the primary key; the library runs it again, and
        -- the lookup above then finds this one's result.
        INSERT INTO grants.idempotency_key (key, operation, request, result, actor)
        VALUES (p_idempotency_key, 'disbursement.schedule', coalesce(p_request, ''), disbursement_id::text, actor);
    END IF;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'disbursement.scheduled', 'disbursement', disbursement_id::text,
            jsonb_build_object('grant', p_reference, 'amount', coalesce(p_amount_text, p_amount::text),
                               'due_on', to_char(p_due_on, 'YYYY-MM-DD'), 'tranche', tranche_number::text));
    RETURN QUERY SELECT * FROM grants.disbursement_row v WHERE v.id = disbursement_id;
END
$$;

-- Attests a scheduled disbursement: not by whoever scheduled it (four-eyes), not while its tranche is held back,
-- not on a settled grant. Attesting again as the same person is a retry.
CREATE OR REPLACE FUNCTION grants_api.attest(p_id bigint, p_actor text DEFAULT NULL)
RETURNS SETOF grants.disbursement_row
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    d grants.disbursement := grants.locked_disbursement(p_id);
BEGIN
    PERFORM grants.refuse_conflicted(actor, d.grant_id);
    IF d.status = 'attested' AND grants.actor_name(d.attested_by) = actor THEN
        RETURN QUERY SELECT * FROM grants.disbursement_row v WHERE v.id = d.id;
        RETURN;
    END IF;
    PERFORM grants.check_disbursement_transition(d, 'attested');
    IF grants.actor_name(d.scheduled_by) = actor THEN
        RAISE EXCEPTION 'four-eyes: % scheduled disbursement % and cannot also attest it', actor, d.id
            USING ERRCODE = '23514', CONSTRAINT = 'four_eyes', TABLE = 'disbursement', SCHEMA = 'grants',
                  DETAIL = grants.rule_detail('four_eyes', 'disbursement', d.id::text, jsonb_build_object('actor', actor));
    END IF;
    PERFORM grants.refuse_held(d);
    PERFORM grants.refuse_settled(d.grant_id, 'attested');
    UPDATE grants.disbursement SET status = 'attested', attested_by = actor, attested_at = now() WHERE id = d.id;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'disbursement.attested', 'disbursement', d.id::text, '{}');
    RETURN QUERY SELECT * FROM grants.disbursement_row v WHERE v.id = d.id;
END
$$;

-- Records the payment of an attested disbursement, dated neither before the grant's decision nor in the future.
-- The same payment again (date and payment reference) is a retry.
CREATE OR REPLACE FUNCTION grants_api.pay(p_id bigint, p_paid_on date, p_payment_reference text, p_actor text DEFAULT NULL)
RETURNS SETOF grants.disbursement_row
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    d grants.disbursement;
    decided date;
BEGIN
    PERFORM grants.check_text('disbursement', coalesce(p_id::text, ''), 'payment_reference', p_payment_reference);
    PERFORM grants.check_not_in_the_future('disbursement', coalesce(p_id::text, ''), 'paid_on', p_paid_on);
    d := grants.locked_disbursement(p_id);
    PERFORM grants.refuse_conflicted(actor, d.grant_id);
    IF d.status = 'paid' AND d.paid_on = p_paid_on AND d.payment_reference = p_payment_reference THEN
        RETURN QUERY SELECT * FROM grants.disbursement_row v WHERE v.id = d.id;
        RETURN;
    END IF;
    PERFORM grants.check_disbursement_transition(d, 'paid');
    SELECT ap.decided_on INTO decided
      FROM grants.grant g JOIN grants.approval ap ON ap.application_id = g.application_id WHERE g.id = d.grant_id;
    IF p_paid_on < decided THEN
        PERFORM grants.refuse_input('disbursement', d.id::text, 'paid_on',
            format('%s is before the grant was decided on %s', to_char(p_paid_on, 'YYYY-MM-DD'), to_char(decided, 'YYYY-MM-DD')));
    END IF;
    PERFORM grants.refuse_held(d);
    PERFORM grants.refuse_settled(d.grant_id, 'paid');
    UPDATE grants.disbursement SET status = 'paid', paid_on = p_paid_on, payment_reference = p_payment_reference, paid_by = actor
     WHERE id = d.id;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'disbursement.paid', 'disbursement', d.id::text,
            jsonb_build_object('paid_on', to_char(p_paid_on, 'YYYY-MM-DD'), 'payment_reference', p_payment_reference));
    RETURN QUERY SELECT * FROM grants.disbursement_row v WHERE v.id = d.id;
END
$$;

-- Cancels a disbursement not yet paid, with the reason, on the business date p_on (required: not in the
-- future, not before the grant's decision, not inside a closed period); its amount is free to schedule again.
-- The same cancellation again (reason and date) is a retry.
CREATE OR REPLACE FUNCTION grants_api.cancel(p_id bigint, p_on date, p_reason text, p_actor text DEFAULT NULL)
RETURNS SETOF grants.disbursement_row
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    d grants.disbursement;
BEGIN
    PERFORM grants.check_text('disbursement', coalesce(p_id::text, ''), 'reason', p_reason);
    IF p_on IS NULL THEN
        PERFORM grants.refuse_input('disbursement', coalesce(p_id::text, ''), 'cancelled_on',
                                    'is required: the business date the event belongs to');
    END IF;
    d := grants.locked_disbursement(p_id);
    PERFORM grants.refuse_conflicted(actor, d.grant_id);
    IF d.status = 'cancelled' AND d.reason = p_reason AND d.cancelled_on IS NOT DISTINCT FROM p_on THEN
        RETURN QUERY SELECT * FROM grants.disbursement_row v WHERE v.id = d.id;
        RETURN;
    END IF;
    PERFORM grants.check_disbursement_transition(d, 'cancelled');
    PERFORM grants.check_business_date('disbursement', d.id::text, 'cancelled_on', p_on, grants.decided_on(d.grant_id));
    UPDATE grants.disbursement
       SET status = 'cancelled', cancelled_by = actor, cancelled_at = now(), cancelled_on = p_on, reason = p_reason
     WHERE id = d.id;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'disbursement.cancelled', 'disbursement', d.id::text,
            jsonb_build_object('reason', p_reason, 'cancelled_on', to_char(p_on, 'YYYY-MM-DD')));
    RETURN QUERY SELECT * FROM grants.disbursement_row v WHERE v.id = d.id;
END
$$;

-- Corrects a paid disbursement with a reversal entry (its negative, pointing at it), dated neither before the
-- payment nor in the future; returns the reversal. The same reversal again is a retry; another date or reason
-- is a conflict listing the differences.
CREATE OR REPLACE FUNCTION grants_api.reverse(p_id bigint, p_on date, p_reason text, p_actor text DEFAULT NULL)
RETURNS SETOF grants.disbursement_row
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    original grants.disbursement;
    existing grants.disbursement;
    differences jsonb := '[]';
    gr record;
    reversal_id bigint;
BEGIN
    PERFORM grants.check_not_in_the_future('disbursement', coalesce(p_id::text, ''), 'reversed_on', p_on);
    PERFORM grants.check_text('disbursement', coalesce(p_id::text, ''), 'reason', p_reason);
    original := grants.locked_disbursement(p_id);
    PERFORM grants.refuse_conflicted(actor, original.grant_id);
    SELECT * INTO existing FROM grants.disbursement x WHERE x.reverses_id = original.id;
    IF FOUND THEN
        IF existing.paid_on IS DISTINCT FROM p_on THEN
            differences := differences || jsonb_build_object('field', 'reversed_on',
                'recorded', coalesce(to_char(existing.paid_on, 'YYYY-MM-DD'), 'none'), 'given', to_char(p_on, 'YYYY-MM-DD'));
        END IF;
        IF existing.reason IS DISTINCT FROM p_reason THEN
            differences := differences || jsonb_build_object('field', 'reason',
                'recorded', coalesce(existing.reason, 'none'), 'given', p_reason);
        END IF;
        IF jsonb_array_length(differences) > 0 THEN
            PERFORM grants.refuse_differences('reversal of disbursement', original.id::text, differences);
        END IF;
        RETURN QUERY SELECT * FROM grants.disbursement_row v WHERE v.id = existing.id;
        RETURN;
    END IF;
    IF original.status <> 'paid' THEN
        RAISE EXCEPTION 'disbursement % cannot go from % to reversed', original.id, original.status
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'disbursement', original.id::text,
                                              jsonb_build_object('from', original.status, 'to', 'reversed'));
    END IF;
    IF p_on < original.paid_on THEN
        PERFORM grants.refuse_input('disbursement', original.id::text, 'reversed_on',
            format('%s is before the payment on %s', to_char(p_on, 'YYYY-MM-DD'), to_char(original.paid_on, 'YYYY-MM-DD')));
    END IF;
    SELECT g.reference, g.status INTO gr FROM grants.grant g WHERE g.id = original.grant_id;
    IF gr.status <> 'active' THEN
        RAISE EXCEPTION 'grant % is closed', gr.reference
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'grant', gr.reference);
    END IF;
    PERFORM grants.refuse_settled(original.grant_id, 'reversal');
    INSERT INTO grants.disbursement (grant_id, amount, currency, due_on, tranche, status, reverses_id, scheduled_by,
                                     paid_on, payment_reference, paid_by, reason)
    VALUES (original.grant_id, -original.amount, original.currency, p_on, original.tranche, 'reversal', original.id, actor,
            p_on, original.payment_reference, actor, p_reason)
    RETURNING id INTO reversal_id;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'disbursement.reversed', 'disbursement', original.id::text,
            jsonb_build_object('reversal', reversal_id::text, 'reason', p_reason, 'on', to_char(p_on, 'YYYY-MM-DD')));
    RETURN QUERY SELECT * FROM grants.disbursement_row v WHERE v.id = reversal_id;
END
$$;
