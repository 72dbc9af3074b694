-- Money through the bank's API (DESIGN §11): payee accounts (set, verify) and payment batches (create,
-- withdraw). Each resolves who acts with grants.acting_person, checks, writes, audits and returns its row in
-- one statement. The rules behind them hold for every writer (Schema/rules/bank.sql).
--
-- SQLSTATEs as DatabaseRules.swift maps them: GR002 invalid transition, GR006 conflict of interest, GR007 not
-- found, GR008 invalid input, GR009 conflict with what is recorded, GR010 unknown person, 23514
-- payee_account_four_eyes.

-- Refuses `actor` for anything about the organisation `p_organisation` when they declared a conflict with it.
CREATE OR REPLACE FUNCTION grants.refuse_conflicted_with_organisation(actor text, p_organisation bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    conflict record;
BEGIN
    SELECT c.person, o.name || coalesce(' (' || o.org_number || ')', '') AS organisation INTO conflict
      FROM grants.conflict_of_interest c JOIN grants.organisation o ON o.id = c.organisation_id
     WHERE c.person = grants.actor_name(actor) AND c.organisation_id = p_organisation;
    IF FOUND THEN
        PERFORM grants.refuse_conflict(conflict.person, conflict.organisation);
    END IF;
END
$$;

-- Sets an organisation's payee account: a Bankgiro or Plusgiro number (digits; hyphens and spaces are ignored)
-- or an IBAN (with its bank's BIC where known), with the reason (the letter, the call). The same account again
-- is a retry. Any change of an organisation's account needs a second person's verification before it is used,
-- and every attested tranche of the organisation's grants that is not in a live batch goes back to be attested
-- again, in this same transaction: an account changed after an attestation is never paid on that attestation.
CREATE OR REPLACE FUNCTION grants_api.set_payee_account(
    p_organisation text, p_kind text, p_number text, p_bic text, p_reason text, p_actor text DEFAULT NULL)
RETURNS TABLE (id bigint, organisation text, organisation_id bigint, kind text, number text, bic text, reason text,
               set_by text, set_at timestamptz, verified_by text, verified_at timestamptz, current boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    actor text := grants.acting_person(p_actor);
    org grants.organisation;
    v_number text;
    v_bic text := nullif(upper(replace(coalesce(p_bic, ''), ' ', '')), '');
    previous record;
    account_id bigint;
    sent_back bigint[];
    d record;
BEGIN
    PERFORM grants.check_text('organisation', coalesce(p_organisation, ''), 'reason', p_reason);
    org := grants.resolve_organisation(p_organisation, 'organisation');
    IF p_kind IS NULL OR p_kind NOT IN ('bankgiro', 'plusgiro', 'iban') THEN
        PERFORM grants.refuse_input('organisation', org.name, 'kind', 'is bankgiro, plusgiro or iban');
    END IF;
    v_number := upper(translate(coalesce(p_number, ''), E' -\u00a0', ''));
    IF p_kind = 'bankgiro' AND NOT coalesce(grants.bankgiro_valid(v_number), false) THEN
        PERFORM grants.refuse_input('organisation', org.name, 'bankgiro',
            format('"%s" is not a Bankgiro number (7 or 8 digits, the last a Luhn check digit)', left(coalesce(p_number, ''), 40)));
    ELSIF p_kind = 'plusgiro' AND NOT coalesce(grants.plusgiro_valid(v_number), false) THEN
        PERFORM grants.refuse_input('organisation', org.name, 'plusgiro',
            format('"%s" is not a Plusgiro number (2 to 8 digits, the last a Luhn check digit)', left(coalesce(p_number, ''), 40)));
    ELSIF p_kind = 'iban' AND NOT coalesce(grants.iban_valid(v_number), false) THEN
        PERFORM grants.refuse_input('organisation', org.name, 'iban',
            format('"%s" is not an IBAN (ISO 13616: the country''s length, check digits mod 97)', left(coalesce(p_number, ''), 40)));
    END IF;
    IF v_bic IS NOT NULL AND p_kind <> 'iban' THEN
        PERFORM grants.refuse_input('organisation', org.name, 'bic', 'belongs to an IBAN account only');
    ELSIF v_bic IS NOT NULL AND NOT grants.bic_valid(v_bic) THEN
        PERFORM grants.refuse_input('organisation', org.name, 'bic',
            format('"%s" is not a BIC (ISO 9362: 8 or 11 letters and digits)', left(p_bic, 40)));
    END IF;
    -- Account changes of one organisation queue here.
    PERFORM 1 FROM grants.organisation o WHERE o.id = org.id FOR UPDATE;
    PERFORM grants.refuse_conflicted_with_organisation(actor, org.id);
    SELECT * INTO previous FROM grants.current_payee_account(org.id);
    IF FOUND AND previous.kind = p_kind AND previous.number = v_number AND previous.bic IS NOT DISTINCT FROM v_bic THEN
        RETURN QUERY SELECT * FROM grants.payee_account_row(previous.id);
        RETURN;
    END IF;
    INSERT INTO grants.payee_account (organisation_id, kind, number, bic, reason, set_by)
    VALUES (org.id, p_kind, v_number, v_bic, p_reason, actor)
    RETURNING payee_account.id INTO account_id;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'payee_account.set', 'organisation', org.name,
            jsonb_build_object('account', account_id::text, 'kind', p_kind, 'number', v_number, 'bic', v_bic,
                               'reason', p_reason, 'replaces', previous.id::text));
    IF previous.id IS NOT NULL THEN
        -- The grants first, then their tranches (the fixed order), in id order.
        PERFORM 1 FROM grants.grant g
         WHERE g.id IN (SELECT x.grant_id FROM grants.disbursement x JOIN grants.grant gx ON gx.id = x.grant_id
                         JOIN grants.application a ON a.id = gx.application_id
                        WHERE a.applicant_id = org.id AND x.status = 'attested')
         ORDER BY g.id FOR UPDATE;
        FOR d IN
            SELECT x.id FROM grants.disbursement x JOIN grants.grant g ON g.id = x.grant_id
              JOIN grants.application a ON a.id = g.application_id
             WHERE a.applicant_id = org.id AND x.status = 'attested'
               AND NOT EXISTS (SELECT 1 FROM grants.payment_batch_item i
                                WHERE i.disbursement_id = x.id AND i.status IN ('sent', 'booked'))
               AND NOT EXISTS (SELECT 1 FROM grants.settlement s WHERE s.grant_id = x.grant_id)
             ORDER BY x.id FOR UPDATE OF x
        LOOP
            UPDATE grants.disbursement x SET status = 'scheduled', attested_by = NULL, attested_at = NULL WHERE x.id = d.id;
            INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
            VALUES (actor, 'disbursement.attestation_withdrawn', 'disbursement', d.id::text,
                    jsonb_build_object('reason', 'the payee''s account changed', 'organisation', org.name,
                                       'account', account_id::text));
        END LOOP;
    END IF;
    RETURN QUERY SELECT * FROM grants.payee_account_row(account_id);
END
$$;

-- A second person verifies an organisation's current payee account (a call-back, a letter on file): not the
-- person who set it (four-eyes), nobody with a declared conflict of interest with the organisation. With
-- p_account, the account the verifier checked must still be the current one (GR009 otherwise). Verifying a
-- verified account again is a retry.
CREATE OR REPLACE FUNCTION grants_api.verify_payee_account(p_organisation text, p_account bigint DEFAULT NULL, p_actor text DEFAULT NULL)
RETURNS TABLE (id bigint, organisation text, organisation_id bigint, kind text, number text, bic text, reason text,
               set_by text, set_at timestamptz, verified_by text, verified_at timestamptz, current boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    actor text := grants.acting_person(p_actor);
    org grants.organisation := grants.resolve_organisation(p_organisation, 'organisation');
    account record;
    setter text;
BEGIN
    PERFORM 1 FROM grants.organisation o WHERE o.id = org.id FOR UPDATE;
    PERFORM grants.refuse_conflicted_with_organisation(actor, org.id);
    SELECT * INTO account FROM grants.current_payee_account(org.id);
    IF NOT FOUND THEN
        PERFORM grants.refuse_not_found('payee account of', org.name);
    END IF;
    IF p_account IS NOT NULL AND p_account <> account.id THEN
        PERFORM grants.refuse_differences('payee account of', org.name,
            jsonb_build_array(jsonb_build_object('field', 'account', 'recorded', account.id::text, 'given', p_account::text)));
    END IF;
    IF account.verified THEN
        RETURN QUERY SELECT * FROM grants.payee_account_row(account.id);
        RETURN;
    END IF;
    SELECT a.set_by INTO setter FROM grants.payee_account a WHERE a.id = account.id;
    IF grants.actor_name(setter) = actor THEN
        RAISE EXCEPTION 'four-eyes: % set the payee account of % and cannot also verify it', actor, org.name
            USING ERRCODE = '23514', CONSTRAINT = 'payee_account_four_eyes', TABLE = 'payee_account_verification',
                  SCHEMA = 'grants',
                  DETAIL = grants.rule_detail('four_eyes', 'payee account', account.id::text,
                                              jsonb_build_object('actor', actor, 'organisation', org.name));
    END IF;
    INSERT INTO grants.payee_account_verification (account_id, verified_by) VALUES (account.id, actor);
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'payee_account.verified', 'organisation', org.name,
            jsonb_build_object('account', account.id::text, 'kind', account.kind, 'number', account.number));
    RETURN QUERY SELECT * FROM grants.payee_account_row(account.id);
END
$$;

-- Creates a payment batch: every attested tranche of the programme due by p_due_by (default: the execution
-- date) that is in no live batch, whose grant's applicant has a verified payee account, and that the creator
-- neither attested (four-eyes: whoever attests a tranche does not also send it to the bank) nor has a declared
-- conflict of interest with; a tranche held back by a report or on a settled grant stays out too. Returns one
-- row per tranche considered, as it is decided (so the work grows with the number of tranches, not its square):
-- with the batch's id when it is in, with why when it is left out. Nothing is created when no tranche is in
-- (every row then says why). Racing creators queue on the grants' locks (taken in id order, then the
-- tranches'); the tranches are chosen again after the locks, so each tranche lands in exactly one batch, and the
-- partial unique index on live items holds that for every writer.
CREATE OR REPLACE FUNCTION grants_api.create_payment_batch(
    p_programme text, p_due_by date, p_execution_date date, p_actor text DEFAULT NULL)
RETURNS TABLE (batch bigint, disbursement bigint, reference text, tranche int, amount bigint, currency text, left_out text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    actor text := grants.acting_person(p_actor);
    v_programme grants.programme;
    settings grants.programme_settings;
    due_by date := coalesce(p_due_by, p_execution_date);
    n int;
    batch_id bigint;
    created timestamptz := now();
    candidate record;
    why text;
BEGIN
    IF p_execution_date IS NULL THEN
        PERFORM grants.refuse_input('payment batch', '', 'execution_date', 'is required');
    END IF;
    IF p_execution_date < current_date THEN
        PERFORM grants.refuse_input('payment batch', '', 'execution_date',
            format('%s is in the past (today is %s)', to_char(p_execution_date, 'YYYY-MM-DD'), to_char(current_date, 'YYYY-MM-DD')));
    END IF;
    IF p_programme IS NULL THEN
        SELECT count(*) INTO n FROM grants.programme;
        IF n <> 1 THEN
            PERFORM grants.refuse_input('payment batch', '', 'programme', format('there are %s programmes: name one', n));
        END IF;
        SELECT * INTO v_programme FROM grants.programme;
    ELSE
        SELECT * INTO v_programme FROM grants.programme p WHERE p.name = p_programme;
        IF NOT FOUND THEN
            PERFORM grants.refuse_not_found('programme', p_programme);
        END IF;
    END IF;
    SELECT * INTO settings FROM grants.programme_settings s WHERE s.programme_id = v_programme.id;
    IF settings.debtor_name IS NULL THEN
        PERFORM grants.refuse_input('programme', v_programme.name, 'debtor_name',
            'is not set: the payment file names the payer (programme set --debtor-name)');
    END IF;
    IF settings.debtor_iban IS NULL AND settings.debtor_bankgiro IS NULL THEN
        PERFORM grants.refuse_input('programme', v_programme.name, 'debtor_iban',
            'is not set: the payment file needs the account paid from (programme set --debtor-iban … --debtor-bic … or --debtor-bankgiro …)');
    END IF;

    -- The grants of every candidate, then the candidates, locked in id order.
    PERFORM 1 FROM grants.grant g
     WHERE g.id IN (SELECT d.grant_id FROM grants.disbursement d JOIN grants.grant x ON x.id = d.grant_id
                     WHERE x.programme_id = v_programme.id AND d.status = 'attested' AND d.due_on <= due_by)
     ORDER BY g.id FOR UPDATE;
    PERFORM 1 FROM grants.disbursement d JOIN grants.grant g ON g.id = d.grant_id
     WHERE g.programme_id = v_programme.id AND d.status = 'attested' AND d.due_on <= due_by
     ORDER BY d.id FOR UPDATE OF d;

    -- A later statement: what a racing creator committed while these locks were awaited is seen now.
    FOR candidate IN
        SELECT d.id, d.tranche, d.amount, d.currency, d.attested_by, d.grant_id, g.reference, g.application_id,
               o.name AS payee, acc.id AS account_id, acc.kind, acc.verified
          FROM grants.disbursement d JOIN grants.grant g ON g.id = d.grant_id
          JOIN grants.application a ON a.id = g.application_id
          JOIN grants.organisation o ON o.id = a.applicant_id
          LEFT JOIN LATERAL grants.current_payee_account(o.id) acc ON true
         WHERE g.programme_id = v_programme.id AND d.status = 'attested' AND d.due_on <= due_by
           AND NOT EXISTS (SELECT 1 FROM grants.payment_batch_item i
                            WHERE i.disbursement_id = d.id AND i.status IN ('sent', 'booked'))
         ORDER BY d.due_on, d.id
    LOOP
        why := CASE
            WHEN candidate.account_id IS NULL THEN format('%s has no payee account', candidate.payee)
            WHEN NOT candidate.verified THEN format('the payee account of %s is not verified', candidate.payee)
            WHEN grants.actor_name(candidate.attested_by) = actor THEN
                format('four-eyes: %s attested it and cannot also send it to the bank', actor)
            WHEN EXISTS (SELECT 1 FROM grants.declared_conflict(actor, candidate.application_id)) THEN
                format('conflict of interest: %s has a declared conflict of interest with a party to the grant', actor)
            WHEN EXISTS (SELECT 1 FROM grants.settlement s WHERE s.grant_id = candidate.grant_id) THEN
                'the grant is settled'
            WHEN EXISTS (SELECT 1 FROM grants.reporting_requirement q
                          WHERE q.grant_id = candidate.grant_id AND q.before_tranche <= candidate.tranche
                            AND q.status NOT IN ('approved', 'waived')) THEN
                'held back by a reporting requirement'
            WHEN candidate.kind IN ('bankgiro', 'plusgiro') AND candidate.currency <> 'SEK' THEN
                format('Bankgiro and Plusgiro pay SEK only; the grant is in %s', candidate.currency)
        END;
        IF why IS NULL THEN
            IF batch_id IS NULL THEN
                batch_id := nextval(pg_get_serial_sequence('grants.payment_batch', 'id'));
                INSERT INTO grants.payment_batch (id, programme_id, message_id, execution_date, due_by, debtor_name,
                                                  debtor_kind, debtor_number, debtor_bic, created_by, created_at)
                OVERRIDING SYSTEM VALUE
                VALUES (batch_id, v_programme.id, 'GRANTS-B' || batch_id || '-' || to_char(created AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISS'),
                        p_execution_date, due_by, settings.debtor_name,
                        CASE WHEN settings.debtor_iban IS NOT NULL THEN 'iban' ELSE 'bankgiro' END,
                        coalesce(settings.debtor_iban, settings.debtor_bankgiro),
                        CASE WHEN settings.debtor_iban IS NOT NULL THEN settings.debtor_bic END, actor, created);
            END IF;
            INSERT INTO grants.payment_batch_item (batch_id, disbursement_id, payee_account_id, end_to_end_id, amount,
                                                   currency, creditor_name, remittance)
            VALUES (batch_id, candidate.id, candidate.account_id, 'GRANTS-D' || candidate.id, candidate.amount,
                    candidate.currency, left(candidate.payee, 70),
                    left(format('%s tranche %s', candidate.reference, candidate.tranche), 140));
        END IF;
        batch := CASE WHEN why IS NULL THEN batch_id END;
        disbursement := candidate.id;
        reference := candidate.reference;
        tranche := candidate.tranche;
        amount := candidate.amount;
        currency := candidate.currency;
        left_out := why;
        RETURN NEXT;
    END LOOP;
    IF batch_id IS NOT NULL THEN
        INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
        SELECT actor, 'payment_batch.created', 'payment_batch', batch_id::text,
               jsonb_build_object('programme', v_programme.name, 'execution_date', to_char(p_execution_date, 'YYYY-MM-DD'),
                                  'due_by', to_char(due_by, 'YYYY-MM-DD'), 'transactions', r.transactions::text,
                                  'control_sum', r.control_sum::text)
          FROM grants.payment_batch_row(batch_id) r;
    END IF;
END
$$;

-- Withdraws a batch the bank has booked nothing of: its tranches are free for the next batch (still attested).
-- The same withdrawal again is a retry.
CREATE OR REPLACE FUNCTION grants_api.withdraw_payment_batch(p_id bigint, p_reason text, p_actor text DEFAULT NULL)
RETURNS TABLE (id bigint, programme text, message_id text, execution_date date, due_by date, status text,
               debtor_name text, debtor_kind text, debtor_number text, debtor_bic text, created_by text,
               created_at timestamptz, withdrawn_by text, withdrawn_at timestamptz, withdraw_reason text,
               transactions bigint, control_sum bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    actor text := grants.acting_person(p_actor);
    b grants.payment_batch;
    booked int;
BEGIN
    PERFORM grants.check_text('payment batch', coalesce(p_id::text, ''), 'reason', p_reason);
    SELECT * INTO b FROM grants.payment_batch x WHERE x.id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM grants.refuse_not_found('payment batch', coalesce(p_id::text, ''));
    END IF;
    IF b.status = 'withdrawn' AND b.withdraw_reason = p_reason THEN
        RETURN QUERY SELECT * FROM grants.payment_batch_row(b.id);
        RETURN;
    END IF;
    SELECT count(*) INTO booked FROM grants.payment_batch_item i WHERE i.batch_id = b.id AND i.status = 'booked';
    IF booked > 0 THEN
        RAISE EXCEPTION 'payment batch %: the bank has booked % of its payments; it cannot be withdrawn', b.id, booked
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'payment batch', b.id::text,
                                              jsonb_build_object('from', 'booked', 'to', 'withdrawn'));
    END IF;
    IF b.status <> 'sent' THEN
        RAISE EXCEPTION 'payment batch % cannot go from % to withdrawn', b.id, b.status
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'payment batch', b.id::text,
                                              jsonb_build_object('from', b.status, 'to', 'withdrawn'));
    END IF;
    UPDATE grants.payment_batch x SET status = 'withdrawn', withdrawn_by = actor, withdrawn_at = now(), withdraw_reason = p_reason
     WHERE x.id = b.id;
    UPDATE grants.payment_batch_item i SET status = 'withdrawn' WHERE i.batch_id = b.id AND i.status = 'sent';
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'payment_batch.withdrawn', 'payment_batch', b.id::text, jsonb_build_object('reason', p_reason));
    RETURN QUERY SELECT * FROM grants.payment_batch_row(b.id);
END
$$;

-- Imports one message of the bank, as the library read it (p_items: a JSON array; see BankMessages.swift):
--   pain.002: {"end_to_end_id", "status", "reason"}: RJCT takes the tranche out of its batch (the item is
--             rejected with the bank's reason code; the tranche stays attested, free for the next batch);
--             any other status changes nothing.
--   camt.054: {"credit", "status", "amount", "currency", "booked_on", "bank_reference", "end_to_end_id",
--             "creditor_reference"}: a booked debit whose EndToEndId names a tranche in a live batch, with the
--             same amount and currency, pays it through grants_api.pay (the booking date as paid_on, the bank's
--             reference as payment_reference) and marks the item booked; a booked credit whose structured
--             reference is a claim's OCR reference is received as a repayment through grants_api.receive_repayment.
-- Whatever does not match is reported, never guessed; a rule that refuses one item (a conflict of interest, a
-- date) is reported for that item and the rest still apply. Returns one row per item: what happened. The same
-- message again (kind and MsgId) returns what it did the first time and writes nothing; the same MsgId with
-- other items is GR009.
CREATE OR REPLACE FUNCTION grants_api.import_bank_message(p_kind text, p_message_id text, p_items jsonb, p_actor text DEFAULT NULL)
RETURNS TABLE (item int, outcome text, detail text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    actor text := grants.acting_person(p_actor);
    fingerprint text := md5(coalesce(p_items::text, ''));
    recorded grants.bank_message;
    -- Appended in place (PL/pgSQL keeps an array it appends to expanded): a message of n items costs n appends,
    -- where concatenating to a jsonb array copied it whole every time.
    results jsonb[] := '{}';
    x jsonb;
    n int := 0;
    it record;
    claim record;
    what text;
    why text;
BEGIN
    IF p_kind IS NULL OR p_kind NOT IN ('pain.002', 'camt.054') THEN
        PERFORM grants.refuse_input('bank message', coalesce(p_message_id, ''), 'kind', 'is pain.002 or camt.054');
    END IF;
    IF p_message_id IS NULL OR length(p_message_id) NOT BETWEEN 1 AND 35 THEN
        PERFORM grants.refuse_input('bank message', coalesce(p_message_id, ''), 'message_id', 'must be 1 to 35 characters');
    END IF;
    IF p_items IS NULL OR jsonb_typeof(p_items) <> 'array' OR jsonb_array_length(p_items) > 100000 THEN
        PERFORM grants.refuse_input('bank message', p_message_id, 'items', 'must be an array of at most 100 000 items');
    END IF;
    -- One import of a message at a time.
    PERFORM pg_advisory_xact_lock(hashtext('grants.bank_message'), hashtext(p_kind || ' ' || p_message_id));
    SELECT * INTO recorded FROM grants.bank_message m WHERE m.kind = p_kind AND m.message_id = p_message_id;
    IF FOUND THEN
        IF recorded.fingerprint <> fingerprint THEN
            PERFORM grants.refuse_differences('bank message', p_message_id,
                jsonb_build_array(jsonb_build_object('field', 'items', 'recorded', 'the message imported on '
                    || to_char(recorded.imported_at, 'YYYY-MM-DD'), 'given', 'other items under the same MsgId')));
        END IF;
        RETURN QUERY SELECT (r->>'item')::int, 'already imported: ' || (r->>'outcome'), r->>'detail'
                       FROM jsonb_array_elements(recorded.outcomes) r;
        RETURN;
    END IF;
    FOR x IN SELECT value FROM jsonb_array_elements(p_items) LOOP
        n := n + 1;
        what := NULL;
        why := NULL;
        IF p_kind = 'pain.002' THEN
            IF x->>'status' IS DISTINCT FROM 'RJCT' THEN
                what := 'unchanged';
                why := format('%s: status %s', x->>'end_to_end_id', coalesce(x->>'status', '?'));
            ELSE
                SELECT i.batch_id, i.disbursement_id INTO it FROM grants.payment_batch_item i
                 WHERE i.end_to_end_id = x->>'end_to_end_id' AND i.status = 'sent' FOR UPDATE;
                IF NOT FOUND THEN
                    what := 'mismatch';
                    why := format('%s: no payment in a live batch has this EndToEndId', x->>'end_to_end_id');
                ELSE
                    UPDATE grants.payment_batch_item i SET status = 'rejected', status_reason = coalesce(x->>'reason', 'RJCT')
                     WHERE i.batch_id = it.batch_id AND i.disbursement_id = it.disbursement_id;
                    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
                    VALUES (actor, 'disbursement.rejected_by_bank', 'disbursement', it.disbursement_id::text,
                            jsonb_build_object('batch', it.batch_id::text, 'reason', x->>'reason', 'message', p_message_id));
                    what := 'rejected';
                    why := format('disbursement %s (batch %s): %s; back to attested', it.disbursement_id, it.batch_id,
                                  coalesce(x->>'reason', 'no reason code'));
                END IF;
            END IF;
        ELSIF x->>'status' IS DISTINCT FROM 'BOOK' THEN
            what := 'unchanged';
            why := format('entry not booked (%s)', coalesce(x->>'status', '?'));
        ELSIF NOT (x->>'credit')::boolean THEN
            SELECT i.batch_id, i.disbursement_id, i.amount, i.currency INTO it FROM grants.payment_batch_item i
             WHERE i.end_to_end_id = x->>'end_to_end_id' AND i.status = 'sent' FOR UPDATE;
            IF x->>'end_to_end_id' IS NULL OR NOT FOUND THEN
                what := 'mismatch';
                why := format('debit %s %s: %s', x->>'amount', x->>'currency',
                    CASE WHEN x->>'end_to_end_id' IS NULL THEN 'no EndToEndId'
                         ELSE x->>'end_to_end_id' || ' names no payment in a live batch' END);
            ELSIF it.amount <> (x->>'amount')::bigint OR it.currency <> x->>'currency' THEN
                what := 'mismatch';
                why := format('%s: the bank booked %s %s, the batch sent %s %s', x->>'end_to_end_id', x->>'amount',
                              x->>'currency', it.amount, it.currency);
            ELSE
                BEGIN
                    -- Booked first: the rule on tranches with the bank lets a booked one be paid (rules/bank.sql).
                    UPDATE grants.payment_batch_item i SET status = 'booked'
                     WHERE i.batch_id = it.batch_id AND i.disbursement_id = it.disbursement_id;
                    PERFORM grants_api.pay(it.disbursement_id, (x->>'booked_on')::date,
                                           coalesce(x->>'bank_reference', p_message_id), p_actor);
                    what := 'paid';
                    why := format('disbursement %s paid on %s (%s)', it.disbursement_id, x->>'booked_on',
                                  coalesce(x->>'bank_reference', p_message_id));
                EXCEPTION WHEN SQLSTATE 'GR002' OR SQLSTATE 'GR006' OR SQLSTATE 'GR008' OR SQLSTATE 'GR110' OR SQLSTATE 'GR120' THEN
                    what := 'refused';
                    why := format('disbursement %s: %s', it.disbursement_id, SQLERRM);
                END;
            END IF;
        ELSE
            SELECT g.reference, p.name AS programme INTO claim
              FROM grants.settlement s JOIN grants.grant g ON g.id = s.grant_id JOIN grants.programme p ON p.id = g.programme_id
             WHERE s.ocr_reference = x->>'creditor_reference';
            IF x->>'creditor_reference' IS NULL OR NOT FOUND THEN
                what := 'unmatched credit';
                why := format('credit %s %s%s matched no claim', x->>'amount', x->>'currency',
                              coalesce(' with reference ' || (x->>'creditor_reference'), ''));
            ELSE
                BEGIN
                    PERFORM grants_api.receive_repayment(claim.reference, claim.programme, (x->>'amount')::bigint,
                        x->>'currency', (x->>'booked_on')::date, coalesce(x->>'bank_reference', p_message_id), p_actor);
                    what := 'repayment';
                    why := format('%s %s against the claim of %s (OCR %s)', x->>'amount', x->>'currency', claim.reference,
                                  x->>'creditor_reference');
                EXCEPTION WHEN SQLSTATE 'GR002' OR SQLSTATE 'GR006' OR SQLSTATE 'GR007' OR SQLSTATE 'GR008'
                               OR SQLSTATE 'GR009' OR SQLSTATE 'GR120' OR SQLSTATE '23514' THEN
                    what := 'refused';
                    why := format('repayment to %s: %s', claim.reference, SQLERRM);
                END;
            END IF;
        END IF;
        -- With the entry as the bank gave it (amount, dates, references): payment reconcile reads them.
        results := array_append(results, jsonb_build_object('item', n, 'outcome', what, 'detail', why, 'entry', x));
    END LOOP;
    INSERT INTO grants.bank_message (kind, message_id, fingerprint, outcomes, imported_by)
    VALUES (p_kind, p_message_id, fingerprint, to_jsonb(results), actor);
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'bank_message.imported', 'bank_message', p_kind || ' ' || p_message_id,
            jsonb_build_object('items', n::text));
    RETURN QUERY SELECT (r->>'item')::int, r->>'outcome', r->>'detail' FROM unnest(results) r;
END
$$;
