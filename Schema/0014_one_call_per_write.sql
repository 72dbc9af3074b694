-- The two writes a programme makes most often, an approval and a tranche scheduled, each as one PL/pgSQL
-- function: the library sends one statement instead of ten, and the backend keeps the plans of every
-- statement inside (PL/pgSQL caches them per session, which also holds through pgbouncer in transaction
-- mode, where named prepared statements do not). Planning the wide reads and the lookups ahead of each
-- write cost more than running them.
--
-- The functions check what the library checked ahead of the write, in the same order and with the same
-- answers, and then write through the same tables: every trigger of 0008–0013 (actor, conflict of interest,
-- budget with the round's lock, award, closed, tranche held back) still fires and still has the last word.
-- They run as the caller (SECURITY INVOKER), so a login may call them exactly when it may write the rows.
--
-- The full row a caller gets back is read through a view, and the library reads grants and disbursements
-- through the same views: one definition of a grant's row and of a disbursement's row.
--
-- SQLSTATEs added (DETAIL is grants.rule_detail's JSON, as in 0008):
--   GR007 not found (entity, key);
--   GR008 invalid input (location, message; rule 'above_requested' also awarded, requested, currency);
--   GR009 a conflict with what is recorded (field, recorded, given).

-- A grant with its application, decision, round, programme and parties: the columns the library decodes.
CREATE VIEW grants.grant_row WITH (security_invoker = true) AS
SELECT g.id, g.reference, p.name AS programme, r.name AS round, a.title, a.phase, a.requested, g.currency,
       g.original_amount, g.amount, g.committed_total, g.paid_total, g.reclaimed, g.starts_on, g.original_ends_on,
       g.ends_on, ap.decided_on, ap.decision_ref, g.status, g.closed_on,
       o.id AS applicant_id, o.name AS applicant_name, o.country AS applicant_country,
       o.org_number AS applicant_org_number, o.municipality_code AS applicant_code, o.kind AS applicant_kind,
       pa.ids AS partner_ids, pa.names AS partner_names, pa.countries AS partner_countries,
       pa.numbers AS partner_numbers, pa.codes AS partner_codes, pa.kinds AS partner_kinds,
       coalesce(th.codes, '{}') AS themes,
       g.programme_id, g.round_id, g.application_id
  FROM grants.grant g
  JOIN grants.application a ON a.id = g.application_id
  JOIN grants.approval ap ON ap.application_id = a.id
  JOIN grants.allocation_round r ON r.id = g.round_id
  JOIN grants.programme p ON p.id = g.programme_id
  JOIN grants.organisation o ON o.id = a.applicant_id
  LEFT JOIN LATERAL (
      SELECT array_agg(po.id ORDER BY x.position) AS ids, array_agg(po.name ORDER BY x.position) AS names,
             array_agg(po.country ORDER BY x.position) AS countries,
             array_agg(po.org_number ORDER BY x.position) AS numbers,
             array_agg(po.municipality_code ORDER BY x.position) AS codes,
             array_agg(po.kind ORDER BY x.position) AS kinds
        FROM grants.application_partner x JOIN grants.organisation po ON po.id = x.organisation_id
       WHERE x.application_id = a.id
  ) pa ON true
  LEFT JOIN LATERAL (
      SELECT array_agg(t.theme_code ORDER BY t.position) AS codes
        FROM grants.application_theme t WHERE t.application_id = a.id
  ) th ON true;

-- A disbursement with its grant's reference, round and programme.
CREATE VIEW grants.disbursement_row WITH (security_invoker = true) AS
SELECT d.id, g.reference, p.name AS programme, r.name AS round, d.amount, d.currency, d.due_on, d.status, d.tranche,
       d.reverses_id, d.scheduled_by, d.attested_by, d.paid_on, d.payment_reference, d.reason, d.grant_id
  FROM grants.disbursement d
  JOIN grants.grant g ON g.id = d.grant_id
  JOIN grants.allocation_round r ON r.id = g.round_id
  JOIN grants.programme p ON p.id = g.programme_id;

CREATE FUNCTION grants.refuse_not_found(entity text, key text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'no % %', entity, key
        USING ERRCODE = 'GR007', DETAIL = grants.rule_detail('not_found', entity, key);
END
$$;

CREATE FUNCTION grants.refuse_input(entity text, key text, location text, message text, extra jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: %', location, message
        USING ERRCODE = 'GR008',
              DETAIL = grants.rule_detail(coalesce(extra->>'rule', 'invalid_input'), entity, key,
                                          jsonb_build_object('location', location, 'message', message) || (extra - 'rule'));
END
$$;

-- A reference used in several programmes must be given with its programme.
CREATE FUNCTION grants.refuse_ambiguous(entity text, key text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM grants.refuse_input(entity, key, 'programme',
                                format('reference %s is used in several programmes; name the programme', key));
END
$$;

-- Approves a submitted application with an award and creates its grant; returns the grant's row. The same
-- decision again returns the grant unchanged (a retry). The library checks the actor's name, the amount's sign,
-- the date and the decision reference's length before it calls.
CREATE FUNCTION grants.approve(
    p_reference text, p_programme text, p_awarded bigint, p_currency text, p_awarded_text text, p_decided_on date,
    p_decision_ref text, p_above_requested boolean, p_actor text)
RETURNS SETOF grants.grant_row
LANGUAGE plpgsql AS $$
DECLARE
    matches int := 0;
    app record;
    earlier record;
    rnd record;
    conflict record;
    new_grant_id bigint;
BEGIN
    -- Lock the application alone: concurrent decisions on it queue here. The round's lock comes last, taken by
    -- the grant's budget trigger, so it is held only for that statement and COMMIT.
    FOR app IN
        SELECT a.id, a.status, a.round_id, a.requested, a.currency
          FROM grants.application a JOIN grants.programme p ON p.id = a.programme_id
         WHERE a.reference = p_reference AND (p_programme IS NULL OR p.name = p_programme)
           FOR UPDATE OF a
    LOOP
        matches := matches + 1;
    END LOOP;
    IF matches = 0 THEN PERFORM grants.refuse_not_found('application', p_reference); END IF;
    IF matches > 1 THEN PERFORM grants.refuse_ambiguous('application', p_reference); END IF;

    -- A person with a conflict of interest gets no answer but the refusal, a retry's included.
    SELECT c.person, c.organisation INTO conflict FROM grants.declared_conflict(p_actor, app.id) c;
    IF FOUND THEN PERFORM grants.refuse_conflict(conflict.person, conflict.organisation); END IF;

    IF app.status = 'approved' THEN
        SELECT ap.awarded, ap.decided_on, ap.decision_ref INTO earlier FROM grants.approval ap WHERE ap.application_id = app.id;
        IF FOUND THEN
            IF earlier.awarded = p_awarded AND earlier.decided_on = p_decided_on
               AND earlier.decision_ref IS NOT DISTINCT FROM p_decision_ref THEN
                RETURN QUERY SELECT * FROM grants.grant_row v WHERE v.application_id = app.id;
                RETURN;
            END IF;
        END IF;
    END IF;
    IF app.status <> 'submitted' THEN
        RAISE EXCEPTION 'application % cannot go from % to approved', p_reference, app.status
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'application', p_reference,
                                              jsonb_build_object('from', app.status, 'to', 'approved'));
    END IF;

    SELECT r.name, r.status, r.currency INTO rnd FROM grants.allocation_round r WHERE r.id = app.round_id;
    IF rnd.status <> 'open' THEN
        RAISE EXCEPTION 'round % is closed', rnd.name
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'round', rnd.name);
    END IF;
    IF p_currency <> rnd.currency THEN
        PERFORM grants.refuse_input('application', p_reference, 'amount', format('the round is in %s', rnd.currency));
    END IF;
    IF p_awarded > app.requested AND NOT p_above_requested THEN
        PERFORM grants.refuse_input('application', p_reference, 'above_requested',
            'the award is above the amount requested and is not confirmed as meant',
            jsonb_build_object('rule', 'above_requested', 'awarded', p_awarded, 'requested', app.requested,
                               'currency', app.currency));
    END IF;

    INSERT INTO grants.approval (application_id, decision, awarded, decided_on, decision_ref, decided_by)
    VALUES (app.id, 'approved', p_awarded, p_decided_on, p_decision_ref, p_actor);
    UPDATE grants.application SET status = 'approved' WHERE id = app.id;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (p_actor, 'application.approved', 'grant', p_reference,
            jsonb_build_object('awarded', p_awarded_text, 'decided_on', to_char(p_decided_on, 'YYYY-MM-DD'), 'round', rnd.name));
    -- Approvals into one round queue here, first come first served, for the round's row lock the grant's trigger
    -- takes next. A row lock alone is not fair: a newcomer can take the row in the moment between one holder's
    -- COMMIT and the wake-up of the next in line, so with many approvers some waited many turns (B3: a p99 ten
    -- times the p50 at 16 writers). The advisory lock's queue is strict. Taken only here, always before the row
    -- lock, so it cannot close a cycle with writers that lock the round's row first (amendments, recording).
    -- The keys: 804 for "a round's awards", the round's id (ids past 2^31 share a queue, which costs only waiting).
    PERFORM pg_advisory_xact_lock(804, (app.round_id % 2147483647)::int);
    -- Last: its trigger locks the round and says by how much a racing award would pass the budget.
    INSERT INTO grants.grant (application_id, programme_id, round_id, reference, original_amount, amount, currency,
                              starts_on, original_ends_on, ends_on)
    SELECT a.id, a.programme_id, a.round_id, a.reference, p_awarded, p_awarded, a.currency, a.starts_on, a.ends_on, a.ends_on
      FROM grants.application a WHERE a.id = app.id
    RETURNING id INTO new_grant_id;
    RETURN QUERY SELECT * FROM grants.grant_row v WHERE v.id = new_grant_id;
END
$$;

-- Schedules a tranche of an active grant; returns the disbursement's row. With an idempotency key, the same
-- request again returns the disbursement it made (p_request is the library's canonical text of the request).
-- The library checks the actor's name, the amount's sign and the tranche number's range before it calls.
CREATE FUNCTION grants.schedule(
    p_reference text, p_programme text, p_amount bigint, p_currency text, p_amount_text text, p_due_on date,
    p_tranche int, p_idempotency_key text, p_request text, p_actor text)
RETURNS SETOF grants.disbursement_row
LANGUAGE plpgsql AS $$
DECLARE
    matches int := 0;
    earlier record;
    gr record;
    conflict record;
    holder bigint;
    tranche_number int;
    disbursement_id bigint;
BEGIN
    IF p_idempotency_key IS NOT NULL THEN
        SELECT k.operation, k.request, k.result INTO earlier FROM grants.idempotency_key k WHERE k.key = p_idempotency_key;
        IF FOUND THEN
            IF earlier.operation <> 'disbursement.schedule' OR earlier.request <> p_request THEN
                RAISE EXCEPTION 'idempotency key % was used for another request', p_idempotency_key
                    USING ERRCODE = 'GR009',
                          DETAIL = grants.rule_detail('conflict', 'idempotency key', p_idempotency_key,
                              jsonb_build_object('field', 'request', 'recorded', earlier.operation || ' ' || earlier.request,
                                                 'given', 'disbursement.schedule ' || p_request));
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
    IF matches = 0 THEN PERFORM grants.refuse_not_found('grant', p_reference); END IF;
    IF matches > 1 THEN PERFORM grants.refuse_ambiguous('grant', p_reference); END IF;

    IF gr.status <> 'active' THEN
        RAISE EXCEPTION 'grant % is closed', p_reference
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'grant', p_reference);
    END IF;
    SELECT c.person, c.organisation INTO conflict FROM grants.declared_conflict(p_actor, gr.application_id) c;
    IF FOUND THEN PERFORM grants.refuse_conflict(conflict.person, conflict.organisation); END IF;
    IF p_currency <> gr.currency THEN
        PERFORM grants.refuse_input('grant', p_reference, 'amount', format('the grant is in %s', gr.currency));
    END IF;
    IF p_due_on < gr.starts_on OR p_due_on > gr.ends_on THEN
        PERFORM grants.refuse_input('grant', p_reference, 'due_on',
            format('%s is outside the grant''s period %s to %s', to_char(p_due_on, 'YYYY-MM-DD'),
                   to_char(gr.starts_on, 'YYYY-MM-DD'), to_char(gr.ends_on, 'YYYY-MM-DD')));
    END IF;
    IF EXISTS (SELECT 1 FROM grants.settlement s WHERE s.grant_id = gr.id) THEN
        RAISE EXCEPTION 'grant % is settled: no new tranches', p_reference
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'grant', p_reference,
                                              jsonb_build_object('from', 'settled', 'to', 'scheduled'));
    END IF;

    -- Tranches are numbered 1, 2, … per grant; a cancelled one gives its number back.
    IF p_tranche IS NULL THEN
        SELECT coalesce(max(d.tranche), 0) + 1 INTO tranche_number FROM grants.disbursement d
         WHERE d.grant_id = gr.id AND d.tranche IS NOT NULL AND d.status <> 'cancelled';
    ELSE
        SELECT d.id INTO holder FROM grants.disbursement d
         WHERE d.grant_id = gr.id AND d.tranche = p_tranche AND d.status <> 'cancelled' ORDER BY d.id LIMIT 1;
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
    VALUES (gr.id, p_amount, p_currency, p_due_on, tranche_number, p_actor)
    RETURNING id INTO disbursement_id;
    IF p_idempotency_key IS NOT NULL THEN
        -- A concurrent request with the same key fails here on the primary key; the library runs it again, and
        -- the lookup above then finds this one's result.
        INSERT INTO grants.idempotency_key (key, operation, request, result, actor)
        VALUES (p_idempotency_key, 'disbursement.schedule', p_request, disbursement_id::text, p_actor);
    END IF;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (p_actor, 'disbursement.scheduled', 'disbursement', disbursement_id::text,
            jsonb_build_object('grant', p_reference, 'amount', p_amount_text, 'due_on', to_char(p_due_on, 'YYYY-MM-DD'),
                               'tranche', tranche_number::text));
    RETURN QUERY SELECT * FROM grants.disbursement_row v WHERE v.id = disbursement_id;
END
$$;

SELECT grants.apply_privileges();
