-- Reporting requirements' API (DESIGN §10): add, receive, approve, return, waive. Each resolves who acts with
-- grants.acting_person, locks the grant and then the requirement (the order attesting takes, so an approval and
-- an attestation of the tranche it holds queue), checks, writes, audits, and returns the requirement's row
-- (grants.requirement_row). The same step again is a retry. The requirement's triggers (0011) keep the state
-- machine for every writer; a requirement holds its tranche and every later one (Schema/rules/holds.sql).

-- A requirement with its grant's reference, round and programme: the columns the library decodes.
CREATE OR REPLACE VIEW grants.requirement_row WITH (security_invoker = true) AS
SELECT q.id, g.reference, p.name AS programme, r.name AS round, q.kind, q.due_on, q.before_tranche, q.status,
       q.received_on, q.approved_on, q.reason, q.grant_id
  FROM grants.reporting_requirement q
  JOIN grants.grant g ON g.id = q.grant_id
  JOIN grants.allocation_round r ON r.id = g.round_id
  JOIN grants.programme p ON p.id = g.programme_id;

-- Adds a requirement to an active grant. Its grant, kind and due date are its natural key: the same one again
-- is a retry; the same key with another before_tranche is a conflict (GR009).
CREATE OR REPLACE FUNCTION grants_api.requirement_add(
    p_reference text, p_programme text, p_kind text, p_due_on date, p_before_tranche int, p_actor text DEFAULT NULL)
RETURNS SETOF grants.requirement_row
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    matches int := 0;
    gr record;
    existing grants.reporting_requirement;
    new_id bigint;
BEGIN
    IF p_kind IS NULL OR p_kind NOT IN ('interim', 'final') THEN
        PERFORM grants.refuse_input('grant', coalesce(p_reference, ''), 'kind', 'is interim or final');
    END IF;
    IF p_due_on IS NULL THEN
        PERFORM grants.refuse_input('grant', coalesce(p_reference, ''), 'due_on', 'is required');
    END IF;
    IF p_before_tranche IS NOT NULL AND p_before_tranche < 1 THEN
        PERFORM grants.refuse_input('grant', coalesce(p_reference, ''), 'before_tranche', 'a tranche number is 1 or more');
    END IF;
    FOR gr IN
        SELECT g.id, g.status FROM grants.grant g JOIN grants.programme p ON p.id = g.programme_id
         WHERE g.reference = p_reference AND (p_programme IS NULL OR p.name = p_programme)
           FOR UPDATE OF g
    LOOP
        matches := matches + 1;
    END LOOP;
    IF matches = 0 THEN PERFORM grants.refuse_not_found('grant', coalesce(p_reference, '')); END IF;
    IF matches > 1 THEN PERFORM grants.refuse_ambiguous('grant', p_reference); END IF;
    SELECT * INTO existing FROM grants.reporting_requirement q
     WHERE q.grant_id = gr.id AND q.kind = p_kind AND q.due_on = p_due_on;
    IF FOUND THEN
        IF existing.before_tranche IS DISTINCT FROM p_before_tranche THEN
            PERFORM grants.refuse_differences('requirement', existing.id::text,
                jsonb_build_array(jsonb_build_object('field', 'before_tranche',
                    'recorded', coalesce(existing.before_tranche::text, 'none'), 'given', coalesce(p_before_tranche::text, 'none'))));
        END IF;
        RETURN QUERY SELECT * FROM grants.requirement_row v WHERE v.id = existing.id;
        RETURN;
    END IF;
    IF gr.status <> 'active' THEN
        RAISE EXCEPTION 'grant % is closed', p_reference
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'grant', p_reference);
    END IF;
    INSERT INTO grants.reporting_requirement (grant_id, kind, due_on, before_tranche, created_by)
    VALUES (gr.id, p_kind, p_due_on, p_before_tranche, actor)
    RETURNING id INTO new_id;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'requirement.added', 'requirement', new_id::text,
            jsonb_strip_nulls(jsonb_build_object('grant', p_reference, 'kind', p_kind, 'due_on', to_char(p_due_on, 'YYYY-MM-DD'),
                                                 'before_tranche', p_before_tranche::text)));
    RETURN QUERY SELECT * FROM grants.requirement_row v WHERE v.id = new_id;
END
$$;

-- One step of a requirement: lock the grant, then the requirement; a retry of the step already made returns
-- it; else the state machine, the step's own check, the update and its audit event.
CREATE OR REPLACE FUNCTION grants.requirement_step(
    p_id bigint, p_target text, p_on date, p_reason text, actor text)
RETURNS SETOF grants.requirement_row
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    q grants.reporting_requirement;
    ref text;
    details jsonb;
    retry boolean;
BEGIN
    PERFORM 1 FROM grants.grant g
     WHERE g.id = (SELECT x.grant_id FROM grants.reporting_requirement x WHERE x.id = p_id) FOR UPDATE;
    SELECT * INTO q FROM grants.reporting_requirement x WHERE x.id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM grants.refuse_not_found('requirement', coalesce(p_id::text, ''));
    END IF;
    retry := q.status = p_target
             AND ((p_target = 'received' AND q.received_on = p_on) OR (p_target = 'approved' AND q.approved_on = p_on)
                  OR (p_target IN ('returned', 'waived') AND q.reason = p_reason));
    IF retry THEN
        RETURN QUERY SELECT * FROM grants.requirement_row v WHERE v.id = q.id;
        RETURN;
    END IF;
    IF NOT ((q.status = 'due' AND p_target IN ('received', 'waived'))
         OR (q.status = 'received' AND p_target IN ('approved', 'returned', 'waived'))
         OR (q.status = 'returned' AND p_target IN ('received', 'waived'))) THEN
        RAISE EXCEPTION 'requirement % cannot go from % to %', q.id, q.status, p_target
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'requirement', q.id::text,
                                              jsonb_build_object('from', q.status, 'to', p_target));
    END IF;
    SELECT g.reference INTO ref FROM grants.grant g WHERE g.id = q.grant_id;
    CASE p_target
    WHEN 'received' THEN
        UPDATE grants.reporting_requirement
           SET status = 'received', received_on = p_on, reason = NULL, changed_by = actor, changed_at = now()
         WHERE id = q.id;
        details := jsonb_build_object('received_on', to_char(p_on, 'YYYY-MM-DD'));
    WHEN 'approved' THEN
        IF q.received_on IS NOT NULL AND p_on < q.received_on THEN
            PERFORM grants.refuse_input('requirement', q.id::text, 'approved_on',
                format('%s is before the report was received (%s)', to_char(p_on, 'YYYY-MM-DD'),
                       to_char(q.received_on, 'YYYY-MM-DD')));
        END IF;
        UPDATE grants.reporting_requirement
           SET status = 'approved', approved_on = p_on, changed_by = actor, changed_at = now()
         WHERE id = q.id;
        details := jsonb_build_object('approved_on', to_char(p_on, 'YYYY-MM-DD'));
    ELSE
        UPDATE grants.reporting_requirement
           SET status = p_target, reason = p_reason, changed_by = actor, changed_at = now()
         WHERE id = q.id;
        details := jsonb_build_object('reason', p_reason);
    END CASE;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'requirement.' || p_target, 'requirement', q.id::text, details || jsonb_build_object('grant', ref));
    RETURN QUERY SELECT * FROM grants.requirement_row v WHERE v.id = q.id;
END
$$;

-- The report arrived (from due, or again after it was returned).
CREATE OR REPLACE FUNCTION grants_api.requirement_receive(p_id bigint, p_on date, p_actor text DEFAULT NULL)
RETURNS SETOF grants.requirement_row
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
BEGIN
    PERFORM grants.check_not_in_the_future('requirement', coalesce(p_id::text, ''), 'received_on', p_on);
    RETURN QUERY SELECT * FROM grants.requirement_step(p_id, 'received', p_on, NULL, actor);
END
$$;

-- A received report is approved: the tranches it held back are released.
CREATE OR REPLACE FUNCTION grants_api.requirement_approve(p_id bigint, p_on date, p_actor text DEFAULT NULL)
RETURNS SETOF grants.requirement_row
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
BEGIN
    PERFORM grants.check_not_in_the_future('requirement', coalesce(p_id::text, ''), 'approved_on', p_on);
    RETURN QUERY SELECT * FROM grants.requirement_step(p_id, 'approved', p_on, NULL, actor);
END
$$;

-- A received report goes back to the grantee for changes, with the reason.
CREATE OR REPLACE FUNCTION grants_api.requirement_return(p_id bigint, p_reason text, p_actor text DEFAULT NULL)
RETURNS SETOF grants.requirement_row
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
BEGIN
    PERFORM grants.check_text('requirement', coalesce(p_id::text, ''), 'reason', p_reason);
    RETURN QUERY SELECT * FROM grants.requirement_step(p_id, 'returned', NULL, p_reason, actor);
END
$$;

-- The requirement is waived, with the reason: met for good, the tranches it held back released.
CREATE OR REPLACE FUNCTION grants_api.requirement_waive(p_id bigint, p_reason text, p_actor text DEFAULT NULL)
RETURNS SETOF grants.requirement_row
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
BEGIN
    PERFORM grants.check_text('requirement', coalesce(p_id::text, ''), 'reason', p_reason);
    RETURN QUERY SELECT * FROM grants.requirement_step(p_id, 'waived', NULL, p_reason, actor);
END
$$;
