-- The grant itself: amend and close (with a write-off of what is still owed). DESIGN §4: a person with a
-- declared conflict of interest with the applicant or a partner neither amends, nor writes off, nor closes.
-- Rows are locked in the fixed order round, grant (then the grant's settlement).
--
-- SQLSTATEs: GR002 state change (closing with unpaid tranches: from 'active with N unpaid disbursements'),
-- GR003 closed, GR006 conflict of interest, GR007 not found, GR008 invalid input, GR111 a final report pending,
-- GR112 an open claim without a write-off, GR120 dated inside a closed period (the triggers of
-- Schema/rules/periods.sql); 23514 round_within_budget / disbursements_within_award with the excess.

-- The grant `p_reference` names (in `p_programme` when given): its id and round, unlocked.
CREATE OR REPLACE FUNCTION grants.grant_by_reference(p_reference text, p_programme text)
RETURNS TABLE (grant_id bigint, round_id bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    matches int := 0;
    candidate record;
BEGIN
    FOR candidate IN
        SELECT g.id, g.round_id FROM grants.grant g JOIN grants.programme p ON p.id = g.programme_id
         WHERE g.reference = p_reference AND (p_programme IS NULL OR p.name = p_programme)
    LOOP
        matches := matches + 1;
        grant_id := candidate.id;
        round_id := candidate.round_id;
    END LOOP;
    IF matches = 0 THEN PERFORM grants.refuse_not_found('grant', coalesce(p_reference, '')); END IF;
    IF matches > 1 THEN PERFORM grants.refuse_ambiguous('grant', p_reference); END IF;
    RETURN NEXT;
END
$$;

-- Changes the award by p_amount_change (up within the round's budget; down not below what is scheduled or
-- paid) and/or moves the end date, with a reason, on the business date p_on (required: not in the future, not
-- before the decision, not inside a closed period); returns the grant's row. p_corrects names the event a late
-- correction corrects: 'decision', or 'amendment N' (an earlier amendment of this grant). Every call is an
-- amendment of its own (an amendment has no idempotency key).
CREATE OR REPLACE FUNCTION grants_api.amend(
    p_reference text, p_programme text, p_amount_change bigint, p_currency text, p_new_ends_on date, p_reason text,
    p_on date, p_corrects text, p_actor text)
RETURNS SETOF grants.grant_row
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text;
    problems jsonb := '[]'::jsonb;
    found_grant record;
    gr grants.grant;
    rnd grants.allocation_round;
    excess numeric;
    details jsonb;
    corrects_amendment bigint;
BEGIN
    PERFORM grants.check_no_control('grant', p_reference, 'reason', p_reason);
    actor := grants.acting_person(p_actor);
    IF p_amount_change IS NULL AND p_new_ends_on IS NULL THEN
        problems := problems || jsonb_build_object('location', 'amount_change', 'message', 'give an amount change or a new end date');
    END IF;
    IF p_amount_change = 0 THEN
        problems := problems || jsonb_build_object('location', 'amount_change', 'message', 'must not be zero');
    END IF;
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        problems := problems || jsonb_build_object('location', 'reason', 'message', 'must not be empty');
    ELSIF length(p_reason) > 1000 THEN
        problems := problems || jsonb_build_object('location', 'reason', 'message', 'must be at most 1000 characters');
    END IF;
    IF p_on IS NULL THEN
        problems := problems || jsonb_build_object('location', 'amended_on',
                                                   'message', 'is required: the business date the event belongs to');
    END IF;
    IF p_corrects IS NOT NULL AND p_corrects <> 'decision' AND p_corrects !~ '^amendment [1-9][0-9]{0,17}$' THEN
        problems := problems || jsonb_build_object('location', 'corrects',
                                                   'message', 'is ''decision'' or ''amendment N'' (an amendment''s id)');
    END IF;
    IF jsonb_array_length(problems) > 0 THEN
        PERFORM grants.refuse_inputs('grant', coalesce(p_reference, ''), problems);
    END IF;

    -- The round first, then the grant: the award moves the round's total.
    SELECT * INTO found_grant FROM grants.grant_by_reference(p_reference, p_programme);
    SELECT * INTO rnd FROM grants.allocation_round r WHERE r.id = found_grant.round_id FOR UPDATE;
    SELECT * INTO gr FROM grants.grant g WHERE g.id = found_grant.grant_id FOR UPDATE;

    PERFORM grants.refuse_if_conflicted(actor, gr.application_id);
    IF gr.status <> 'active' THEN
        RAISE EXCEPTION 'grant % is closed', p_reference
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'grant', p_reference);
    END IF;
    PERFORM grants.check_business_date('grant', p_reference, 'amended_on', p_on, grants.decided_on(gr.id));
    IF p_corrects LIKE 'amendment %' THEN
        corrects_amendment := substr(p_corrects, 11)::bigint;
        IF NOT EXISTS (SELECT 1 FROM grants.grant_amendment x WHERE x.id = corrects_amendment AND x.grant_id = gr.id) THEN
            PERFORM grants.refuse_input('grant', p_reference, 'corrects',
                                        format('%s is not an amendment of grant %s', p_corrects, p_reference));
        END IF;
    END IF;
    IF p_amount_change IS NOT NULL THEN
        IF p_currency IS DISTINCT FROM gr.currency THEN
            PERFORM grants.refuse_input('grant', p_reference, 'amount_change', format('the grant is in %s', gr.currency));
        END IF;
        IF p_amount_change > 0 THEN
            excess := rnd.awarded_total::numeric + p_amount_change - rnd.budget;
            IF excess > 0 THEN
                RAISE EXCEPTION 'round %: the award would pass the budget', rnd.name
                    USING ERRCODE = '23514', CONSTRAINT = 'round_within_budget', TABLE = 'allocation_round', SCHEMA = 'grants',
                          DETAIL = grants.rule_detail('budget_exceeded', 'round', rnd.name,
                              jsonb_build_object('excess', least(excess, 9223372036854775807), 'currency', rnd.currency));
            END IF;
        ELSIF gr.amount::numeric + p_amount_change < gr.committed_total THEN
            RAISE EXCEPTION 'grant %: disbursements would exceed the award', p_reference
                USING ERRCODE = '23514', CONSTRAINT = 'disbursements_within_award', TABLE = 'grant', SCHEMA = 'grants',
                      DETAIL = grants.rule_detail('award_exceeded', 'grant', p_reference,
                          jsonb_build_object('excess', least(gr.committed_total::numeric - gr.amount - p_amount_change,
                                                             9223372036854775807),
                                             'currency', gr.currency));
        END IF;
    END IF;
    IF p_new_ends_on < gr.starts_on THEN
        PERFORM grants.refuse_input('grant', p_reference, 'ends_on',
            format('%s is before the grant starts (%s)', to_char(p_new_ends_on, 'YYYY-MM-DD'), to_char(gr.starts_on, 'YYYY-MM-DD')));
    END IF;

    INSERT INTO grants.grant_amendment (grant_id, amount_change, new_ends_on, reason, amended_by, amended_on,
                                        corrects_decision, corrects_amendment_id)
    VALUES (gr.id, coalesce(p_amount_change, 0), p_new_ends_on, p_reason, actor, p_on, coalesce(p_corrects = 'decision', false),
            corrects_amendment);
    details := jsonb_build_object('reason', p_reason, 'amended_on', to_char(p_on, 'YYYY-MM-DD'));
    IF p_corrects IS NOT NULL THEN
        details := details || jsonb_build_object('corrects', p_corrects);
    END IF;
    IF p_amount_change IS NOT NULL THEN
        details := details || jsonb_build_object('amount_change', grants.plain_amount(p_amount_change));
    END IF;
    IF p_new_ends_on IS NOT NULL THEN
        details := details || jsonb_build_object('new_ends_on', to_char(p_new_ends_on, 'YYYY-MM-DD'));
    END IF;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'grant.amended', 'grant', p_reference, details);
    RETURN QUERY SELECT * FROM grants.grant_row v WHERE v.id = gr.id;
END
$$;

-- Closes a grant on the business date p_closed_on (required: not in the future, not before the decision, not
-- inside a closed period; a write-off is dated by it too); returns its row. Every tranche must be paid or cancelled, every final report
-- approved or waived, and a settlement's repayment claim repaid in full unless p_write_off gives the reason the
-- rest is not collected: that rest is then written off on the settlement, by whoever closes. `reclaimed` is the
-- part of the award never paid out (award − paid); the round's awarded total stays as decided.
CREATE OR REPLACE FUNCTION grants_api.close(p_reference text, p_programme text, p_closed_on date, p_write_off text,
                                            p_actor text)
RETURNS SETOF grants.grant_row
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text;
    found_grant record;
    gr grants.grant;
    pending bigint;
    report bigint;
    s grants.settlement;
    open_claim bigint;
    details jsonb := '{}'::jsonb;
BEGIN
    PERFORM grants.check_no_control('grant', p_reference, 'write_off', p_write_off);
    actor := grants.acting_person(p_actor);
    IF p_write_off IS NOT NULL AND btrim(p_write_off) = '' THEN
        PERFORM grants.refuse_input('grant', coalesce(p_reference, ''), 'write_off', 'must not be empty');
    END IF;
    IF length(p_write_off) > 1000 THEN
        PERFORM grants.refuse_input('grant', coalesce(p_reference, ''), 'write_off', 'must be at most 1000 characters');
    END IF;
    IF p_closed_on IS NULL THEN
        PERFORM grants.refuse_input('grant', coalesce(p_reference, ''), 'closed_on',
                                    'is required: the business date the event belongs to');
    END IF;

    SELECT * INTO found_grant FROM grants.grant_by_reference(p_reference, p_programme);
    SELECT * INTO gr FROM grants.grant g WHERE g.id = found_grant.grant_id FOR UPDATE;

    PERFORM grants.refuse_if_conflicted(actor, gr.application_id);
    PERFORM grants.check_business_date('grant', p_reference, 'closed_on', p_closed_on, grants.decided_on(gr.id));
    IF gr.status <> 'active' THEN
        RAISE EXCEPTION 'grant % cannot go from % to closed', p_reference, gr.status
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'grant', p_reference,
                                              jsonb_build_object('from', gr.status, 'to', 'closed'));
    END IF;
    SELECT count(*) INTO pending FROM grants.disbursement d
     WHERE d.grant_id = gr.id AND d.status IN ('scheduled', 'attested');
    IF pending > 0 THEN
        -- Closing needs every tranche settled: paid, or cancelled.
        RAISE EXCEPTION 'grant % has % unpaid disbursements: pay or cancel them to close', p_reference, pending
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'grant', p_reference,
                      jsonb_build_object('from', format('active with %s unpaid disbursements', pending), 'to', 'closed'));
    END IF;
    SELECT q.id INTO report FROM grants.reporting_requirement q
     WHERE q.grant_id = gr.id AND q.kind = 'final' AND q.status NOT IN ('approved', 'waived') ORDER BY q.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'grant %: final report requirement % is neither approved nor waived', p_reference, report
            USING ERRCODE = 'GR111',
                  DETAIL = grants.rule_detail('report_pending', 'grant', p_reference, jsonb_build_object('requirement', report));
    END IF;
    SELECT * INTO s FROM grants.settlement x WHERE x.grant_id = gr.id FOR UPDATE;
    IF FOUND THEN
        open_claim := s.claimed - s.repaid_total - s.written_off;
        IF open_claim > 0 THEN
            IF p_write_off IS NULL THEN
                RAISE EXCEPTION 'grant %: the repayment claim is open; write the rest off with a reason to close', p_reference
                    USING ERRCODE = 'GR112',
                          DETAIL = grants.rule_detail('claim_open', 'grant', p_reference,
                                                      jsonb_build_object('excess', open_claim, 'currency', s.currency));
            END IF;
            UPDATE grants.settlement SET written_off = open_claim, write_off_reason = p_write_off WHERE grant_id = gr.id;
            details := jsonb_build_object('written_off', grants.plain_amount(open_claim), 'write_off_reason', p_write_off);
        END IF;
    END IF;
    details := details || jsonb_build_object('reclaimed', grants.plain_amount(gr.amount - gr.paid_total),
                                             'closed_on', to_char(p_closed_on, 'YYYY-MM-DD'));
    UPDATE grants.grant
       SET status = 'closed', closed_on = p_closed_on, closed_by = actor, reclaimed = gr.amount - gr.paid_total
     WHERE id = gr.id;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'grant.closed', 'grant', p_reference, details);
    RETURN QUERY SELECT * FROM grants.grant_row v WHERE v.id = gr.id;
END
$$;
