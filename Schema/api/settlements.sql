-- Settlements' and repayments' API (DESIGN §10): settle a grant, receive a repayment against its claim. Each
-- resolves who acts with grants.acting_person, locks the grant (FOR UPDATE: a settlement and a disbursement
-- racing it queue, Schema/rules/settlement.sql), refuses a person with a declared conflict of interest where
-- the act is about money of the grant (settling), checks, writes, audits and returns the row. The same request
-- again is a retry; another one under the same key is a conflict listing the differences (GR009).

-- (Amounts as text: grants.swedish_amount and grants.plain_amount, Schema/rules/amounts.sql.)

-- A settlement with its grant's reference: the columns the library decodes.
CREATE OR REPLACE VIEW grants.settlement_row WITH (security_invoker = true) AS
SELECT g.reference, s.currency, s.spent, s.paid, s.claimed, s.repaid_total, s.written_off, s.write_off_reason,
       s.settled_on, s.settled_by, s.grant_id, s.ocr_reference
  FROM grants.settlement s JOIN grants.grant g ON g.id = s.grant_id;

-- A repayment with its grant's reference, round and programme.
CREATE OR REPLACE VIEW grants.repayment_row WITH (security_invoker = true) AS
SELECT x.id, x.grant_id, g.reference, p.name AS programme, r.name AS round, x.amount, x.currency, x.received_on,
       x.payment_reference, x.received_by
  FROM grants.repayment x
  JOIN grants.grant g ON g.id = x.grant_id
  JOIN grants.allocation_round r ON r.id = g.round_id
  JOIN grants.programme p ON p.id = g.programme_id;

-- The grant `p_reference` (of `p_programme` when given), locked FOR UPDATE; GR007 / GR008 when there is none or
-- several.
CREATE OR REPLACE FUNCTION grants.locked_grant(p_reference text, p_programme text) RETURNS grants.grant
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_grant grants.grant;
    matches int := 0;
BEGIN
    FOR found_grant IN
        SELECT g.* FROM grants.grant g JOIN grants.programme p ON p.id = g.programme_id
         WHERE g.reference = p_reference AND (p_programme IS NULL OR p.name = p_programme)
           FOR UPDATE OF g
    LOOP
        matches := matches + 1;
    END LOOP;
    IF matches = 0 THEN PERFORM grants.refuse_not_found('grant', coalesce(p_reference, '')); END IF;
    IF matches > 1 THEN PERFORM grants.refuse_ambiguous('grant', p_reference); END IF;
    RETURN found_grant;
END
$$;

-- Records the final account of a grant once: what was spent, on a date not in the future. The claim (paid −
-- spent, when positive) is computed by the database from the grant's paid total. Disbursements still scheduled
-- or attested must be paid or cancelled first.
CREATE OR REPLACE FUNCTION grants_api.settle(
    p_reference text, p_programme text, p_spent bigint, p_currency text, p_on date, p_actor text DEFAULT NULL)
RETURNS SETOF grants.settlement_row
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    g grants.grant;
    recorded grants.settlement;
    differences jsonb := '[]';
    pending bigint;
    s grants.settlement;
BEGIN
    IF p_spent IS NULL OR p_spent < 0 THEN
        PERFORM grants.refuse_input('grant', coalesce(p_reference, ''), 'spent', 'must not be negative');
    END IF;
    PERFORM grants.check_not_in_the_future('grant', coalesce(p_reference, ''), 'settled_on', p_on);
    g := grants.locked_grant(p_reference, p_programme);
    PERFORM grants.refuse_conflicted(actor, g.id);
    SELECT * INTO recorded FROM grants.settlement x WHERE x.grant_id = g.id;
    IF FOUND THEN
        IF recorded.spent <> p_spent OR recorded.currency IS DISTINCT FROM p_currency THEN
            differences := differences || jsonb_build_object('field', 'spent',
                'recorded', grants.swedish_amount(recorded.spent, recorded.currency),
                'given', grants.swedish_amount(p_spent, coalesce(p_currency, recorded.currency)));
        END IF;
        IF recorded.settled_on <> p_on THEN
            differences := differences || jsonb_build_object('field', 'settled_on',
                'recorded', to_char(recorded.settled_on, 'YYYY-MM-DD'), 'given', to_char(p_on, 'YYYY-MM-DD'));
        END IF;
        IF jsonb_array_length(differences) > 0 THEN
            PERFORM grants.refuse_differences('settlement', p_reference, differences);
        END IF;
        RETURN QUERY SELECT * FROM grants.settlement_row v WHERE v.grant_id = g.id;
        RETURN;
    END IF;
    IF g.status <> 'active' THEN
        RAISE EXCEPTION 'grant % is closed', p_reference
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'grant', p_reference);
    END IF;
    IF p_currency IS DISTINCT FROM g.currency THEN
        PERFORM grants.refuse_input('grant', p_reference, 'spent', format('the grant is in %s', g.currency));
    END IF;
    SELECT count(*) INTO pending FROM grants.disbursement d WHERE d.grant_id = g.id AND d.status IN ('scheduled', 'attested');
    IF pending > 0 THEN
        RAISE EXCEPTION 'grant % has % unpaid disbursements: pay or cancel them before settling', p_reference, pending
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'grant', p_reference,
                      jsonb_build_object('from', format('active with %s unpaid disbursements', pending), 'to', 'settled'));
    END IF;
    -- The insert trigger takes the paid total and the claim from the grant (settlement_insert_guard).
    INSERT INTO grants.settlement (grant_id, currency, spent, paid, claimed, settled_on, settled_by)
    VALUES (g.id, g.currency, p_spent, 0, 0, p_on, actor)
    RETURNING * INTO s;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'grant.settled', 'grant', p_reference,
            jsonb_build_object('spent', grants.plain_amount(s.spent), 'paid', grants.plain_amount(s.paid),
                               'claimed', grants.plain_amount(s.claimed), 'settled_on', to_char(p_on, 'YYYY-MM-DD')));
    RETURN QUERY SELECT * FROM grants.settlement_row v WHERE v.grant_id = g.id;
END
$$;

-- Books money received against a settled grant's claim. Σ received never passes the claim less what was
-- written off (23514 repaid_within_claim, with the excess). The bank's payment reference is the natural key:
-- the same repayment again is a retry; another amount or date under it is a conflict. The id is issued by
-- grants.next_entry_id() (the repayment trigger): no caller chooses it.
CREATE OR REPLACE FUNCTION grants_api.receive_repayment(
    p_reference text, p_programme text, p_amount bigint, p_currency text, p_on date, p_payment_reference text,
    p_actor text DEFAULT NULL)
RETURNS SETOF grants.repayment_row
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    g grants.grant;
    s grants.settlement;
    recorded grants.repayment;
    differences jsonb := '[]';
    after numeric;
    new_id bigint;
BEGIN
    IF p_amount IS NULL OR p_amount <= 0 THEN
        PERFORM grants.refuse_input('grant', coalesce(p_reference, ''), 'amount', 'must be positive');
    END IF;
    PERFORM grants.check_not_in_the_future('grant', coalesce(p_reference, ''), 'received_on', p_on);
    PERFORM grants.check_text('grant', coalesce(p_reference, ''), 'payment_reference', p_payment_reference);
    g := grants.locked_grant(p_reference, p_programme);
    SELECT * INTO s FROM grants.settlement x WHERE x.grant_id = g.id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM grants.refuse_not_found('repayment claim (settle the grant first)', p_reference);
    END IF;
    SELECT * INTO recorded FROM grants.repayment x WHERE x.grant_id = g.id AND x.payment_reference = p_payment_reference;
    IF FOUND THEN
        IF recorded.amount <> p_amount OR recorded.currency IS DISTINCT FROM p_currency THEN
            differences := differences || jsonb_build_object('field', 'amount',
                'recorded', grants.swedish_amount(recorded.amount, recorded.currency),
                'given', grants.swedish_amount(p_amount, coalesce(p_currency, recorded.currency)));
        END IF;
        IF recorded.received_on <> p_on THEN
            differences := differences || jsonb_build_object('field', 'received_on',
                'recorded', to_char(recorded.received_on, 'YYYY-MM-DD'), 'given', to_char(p_on, 'YYYY-MM-DD'));
        END IF;
        IF jsonb_array_length(differences) > 0 THEN
            PERFORM grants.refuse_differences('repayment', p_payment_reference, differences);
        END IF;
        RETURN QUERY SELECT * FROM grants.repayment_row v WHERE v.id = recorded.id;
        RETURN;
    END IF;
    IF g.status <> 'active' THEN
        RAISE EXCEPTION 'grant % is closed', p_reference
            USING ERRCODE = 'GR003', DETAIL = grants.rule_detail('closed', 'grant', p_reference);
    END IF;
    IF p_currency IS DISTINCT FROM s.currency THEN
        PERFORM grants.refuse_input('grant', p_reference, 'amount', format('the grant is in %s', s.currency));
    END IF;
    after := s.repaid_total::numeric + p_amount;
    IF after > s.claimed - s.written_off THEN
        RAISE EXCEPTION 'grant %: repayments would exceed the claim', p_reference
            USING ERRCODE = '23514', CONSTRAINT = 'repaid_within_claim', TABLE = 'settlement', SCHEMA = 'grants',
                  DETAIL = grants.rule_detail('repayment_exceeds_claim', 'grant', p_reference,
                      jsonb_build_object('excess', least(after - (s.claimed - s.written_off), 9223372036854775807),
                                         'currency', s.currency));
    END IF;
    INSERT INTO grants.repayment (grant_id, amount, currency, received_on, payment_reference, received_by)
    VALUES (g.id, p_amount, p_currency, p_on, p_payment_reference, actor)
    RETURNING id INTO new_id;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'repayment.received', 'grant', p_reference,
            jsonb_build_object('repayment', new_id::text, 'amount', grants.plain_amount(p_amount),
                               'received_on', to_char(p_on, 'YYYY-MM-DD'), 'payment_reference', p_payment_reference));
    RETURN QUERY SELECT * FROM grants.repayment_row v WHERE v.id = new_id;
END
$$;
