-- Money through the bank (DESIGN §11): the check digits of Bankgiro, Plusgiro, IBAN, BIC and OCR numbers, as
-- GrantsCore's Bank types check them (a test compares the two on a table of numbers), so the database refuses
-- a bad number from any writer; and the rules of payee accounts and payment batches. The current definitions.

-- The Luhn check digit that makes `digits` followed by it valid (grants.luhn_valid, state-machines.sql).
CREATE OR REPLACE FUNCTION grants.luhn_check_digit(digits text) RETURNS int
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (10 - sum(CASE WHEN d > 9 THEN d - 9 ELSE d END) % 10)::int % 10
      FROM (SELECT substr(digits, i, 1)::int * CASE WHEN (length(digits) - i) % 2 = 0 THEN 2 ELSE 1 END AS d
              FROM generate_series(1, length(digits)) AS i) AS weighted
$$;

-- Bankgiro: 7 or 8 digits (stored without the hyphen), Luhn.
CREATE OR REPLACE FUNCTION grants.bankgiro_valid(digits text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT digits ~ '^[0-9]{7,8}$' AND grants.luhn_valid(digits)
$$;

-- Plusgiro: 2 to 8 digits (stored without the hyphen), Luhn.
CREATE OR REPLACE FUNCTION grants.plusgiro_valid(digits text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT digits ~ '^[0-9]{2,8}$' AND grants.luhn_valid(digits)
$$;

-- OCR reference: 2 to 25 digits, Luhn (a length digit before the check digit is optional).
CREATE OR REPLACE FUNCTION grants.ocr_valid(digits text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT digits ~ '^[0-9]{2,25}$' AND grants.luhn_valid(digits)
$$;

-- The IBAN length of a country, from the SWIFT IBAN registry (IBAN.lengths in GrantsCore); NULL where the
-- country has no IBAN.
CREATE OR REPLACE FUNCTION grants.iban_length(country text) RETURNS int
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (('{"AD":24,"AE":23,"AL":28,"AT":20,"AZ":28,"BA":20,"BE":16,"BG":22,"BH":22,"BI":27,"BR":29,'
             '"BY":28,"CH":21,"CR":22,"CY":28,"CZ":24,"DE":22,"DJ":27,"DK":18,"DO":28,"EE":20,"EG":29,'
             '"ES":24,"FI":18,"FK":18,"FO":18,"FR":27,"GB":22,"GE":22,"GI":23,"GL":18,"GR":27,"GT":28,'
             '"HR":21,"HU":28,"IE":22,"IL":23,"IQ":23,"IS":26,"IT":27,"JO":30,"KW":30,"KZ":20,"LB":28,'
             '"LC":32,"LI":21,"LT":20,"LU":20,"LV":21,"LY":25,"MC":27,"MD":24,"ME":22,"MK":19,"MN":20,'
             '"MR":27,"MT":31,"MU":30,"NI":28,"NL":18,"NO":15,"OM":23,"PK":24,"PL":28,"PS":29,"PT":25,'
             '"QA":29,"RO":24,"RS":22,"RU":33,"SA":24,"SC":31,"SD":18,"SE":24,"SI":19,"SK":24,"SM":27,'
             '"SO":23,"ST":25,"SV":28,"TL":23,"TN":24,"TR":26,"UA":29,"VA":22,"VG":24,"XK":20}')::jsonb ->> country)::int
$$;

-- IBAN (stored upper case without spaces): ISO 13616, the country's length, MOD 97-10 = 1 over the number with
-- its first four characters moved to the end and letters as numbers (A = 10 … Z = 35).
CREATE OR REPLACE FUNCTION grants.iban_valid(iban text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    rearranged text;
    remainder int := 0;
    c int;
BEGIN
    IF iban !~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$' OR length(iban) <> grants.iban_length(substr(iban, 1, 2)) IS NOT FALSE THEN
        RETURN false;
    END IF;
    IF substr(iban, 1, 2) = 'SE' AND iban !~ '^SE[0-9]+$' THEN
        RETURN false;
    END IF;
    rearranged := substr(iban, 5) || substr(iban, 1, 4);
    FOR i IN 1 .. length(rearranged) LOOP
        c := ascii(substr(rearranged, i, 1));
        IF c >= 65 THEN
            remainder := (remainder * 100 + c - 55) % 97;
        ELSE
            remainder := (remainder * 10 + c - 48) % 97;
        END IF;
    END LOOP;
    RETURN remainder = 1;
END
$$;

-- BIC (ISO 9362): four letters, a country code, two letters or digits, optionally three more.
CREATE OR REPLACE FUNCTION grants.bic_valid(bic text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT bic ~ '^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$'
$$;

-- A payee's or the programme's own account, checked by its kind.
CREATE OR REPLACE FUNCTION grants.account_valid(kind text, number text, bic text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE kind
        WHEN 'bankgiro' THEN coalesce(grants.bankgiro_valid(number), false) AND bic IS NULL
        WHEN 'plusgiro' THEN coalesce(grants.plusgiro_valid(number), false) AND bic IS NULL
        WHEN 'iban' THEN coalesce(grants.iban_valid(number), false) AND (bic IS NULL OR grants.bic_valid(bic))
        ELSE false
    END
$$;

-- Four-eyes on payee accounts: whoever set an account does not verify it (for every writer).
CREATE OR REPLACE FUNCTION grants.payee_account_verification_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    setter text;
BEGIN
    SELECT a.set_by INTO setter FROM grants.payee_account a WHERE a.id = NEW.account_id;
    IF grants.actor_name(setter) = grants.actor_name(NEW.verified_by) THEN
        RAISE EXCEPTION 'four-eyes: % set payee account % and cannot also verify it', NEW.verified_by, NEW.account_id
            USING ERRCODE = '23514', CONSTRAINT = 'payee_account_four_eyes', TABLE = 'payee_account_verification',
                  SCHEMA = 'grants',
                  DETAIL = grants.rule_detail('four_eyes', 'payee account', NEW.account_id::text,
                                              jsonb_build_object('actor', grants.actor_name(NEW.verified_by)));
    END IF;
    RETURN NEW;
END
$$;

-- A batch is never deleted; it changes once, from sent to withdrawn, with who, when and why.
CREATE OR REPLACE FUNCTION grants.payment_batch_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'payment batches are never deleted; withdraw instead'
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'payment batch', OLD.id::text);
    END IF;
    IF NOT (OLD.status = 'sent' AND NEW.status = 'withdrawn') THEN
        RAISE EXCEPTION 'payment batch % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'payment batch', OLD.id::text,
                                              jsonb_build_object('from', OLD.status, 'to', NEW.status));
    END IF;
    IF (to_jsonb(NEW) - ARRAY['status', 'withdrawn_by', 'withdrawn_at', 'withdraw_reason'])
        IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['status', 'withdrawn_by', 'withdrawn_at', 'withdraw_reason']) THEN
        RAISE EXCEPTION 'payment batch % is a record of what was sent: it does not change', OLD.id
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'payment batch', OLD.id::text);
    END IF;
    RETURN NEW;
END
$$;

-- An item changes only its status: sent → withdrawn | rejected | booked.
CREATE OR REPLACE FUNCTION grants.payment_batch_item_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'payment batch items are never deleted'
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'payment batch', OLD.batch_id::text);
    END IF;
    IF NOT (OLD.status = 'sent' AND NEW.status IN ('withdrawn', 'rejected', 'booked')) THEN
        RAISE EXCEPTION 'tranche % in payment batch % cannot go from % to %', OLD.disbursement_id, OLD.batch_id, OLD.status, NEW.status
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'payment batch item', OLD.end_to_end_id,
                                              jsonb_build_object('from', OLD.status, 'to', NEW.status));
    END IF;
    IF (to_jsonb(NEW) - ARRAY['status', 'status_reason']) IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['status', 'status_reason']) THEN
        RAISE EXCEPTION 'payment batch % is a record of what was sent: it does not change', OLD.batch_id
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'payment batch', OLD.batch_id::text);
    END IF;
    RETURN NEW;
END
$$;

-- While the bank has a tranche (its item is in a live batch), it is neither paid, cancelled nor sent back to be
-- attested again by hand, by any writer: the bank pays it, and its camt.054 notification records the payment.
-- The import marks the item booked first and then pays the tranche (grants_api.import_bank_message): a tranche
-- whose live item is booked is paid, one whose item is only sent is not. Otherwise: withdraw the batch first.
CREATE OR REPLACE FUNCTION grants.disbursement_in_live_batch() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    item record;
BEGIN
    SELECT i.batch_id, i.status, b.message_id INTO item
      FROM grants.payment_batch_item i JOIN grants.payment_batch b ON b.id = i.batch_id
     WHERE i.disbursement_id = NEW.id AND i.status IN ('sent', 'booked');
    IF FOUND AND NOT (NEW.status = 'paid' AND item.status = 'booked') THEN
        RAISE EXCEPTION 'disbursement % is with the bank in payment batch % (%): it cannot be % by hand; withdraw the batch or wait for the bank''s notification',
                        NEW.id, item.batch_id, item.message_id,
                        CASE NEW.status WHEN 'paid' THEN 'paid' WHEN 'cancelled' THEN 'cancelled' ELSE 'sent back to be attested' END
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('in_payment_batch', 'disbursement', NEW.id::text,
                      jsonb_build_object('from', 'in payment batch ' || item.batch_id, 'to', NEW.status,
                                         'batch', item.batch_id, 'message_id', item.message_id));
    END IF;
    RETURN NEW;
END
$$;

-- The current payee account of each organisation (its newest) and whether it is verified.
CREATE OR REPLACE FUNCTION grants.current_payee_account(p_organisation bigint)
RETURNS TABLE (id bigint, kind text, number text, bic text, verified boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.id, a.kind, a.number, a.bic, v.account_id IS NOT NULL
      FROM grants.payee_account a LEFT JOIN grants.payee_account_verification v ON v.account_id = a.id
     WHERE a.organisation_id = p_organisation
     ORDER BY a.id DESC LIMIT 1
$$;

-- A payee account as the API returns it and the library reads it.
CREATE OR REPLACE FUNCTION grants.payee_account_row(p_id bigint)
RETURNS TABLE (id bigint, organisation text, organisation_id bigint, kind text, number text, bic text, reason text,
               set_by text, set_at timestamptz, verified_by text, verified_at timestamptz, current boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.id, o.name, o.id, a.kind, a.number, a.bic, a.reason, a.set_by, a.set_at, v.verified_by, v.verified_at,
           NOT EXISTS (SELECT 1 FROM grants.payee_account n WHERE n.organisation_id = a.organisation_id AND n.id > a.id)
      FROM grants.payee_account a JOIN grants.organisation o ON o.id = a.organisation_id
      LEFT JOIN grants.payee_account_verification v ON v.account_id = a.id
     WHERE a.id = p_id
$$;

-- A payment batch as the API returns it and the library reads it: the number of its transactions and their sum
-- in minor units (the file's NbOfTxs and CtrlSum), counting every item the file carries.
CREATE OR REPLACE FUNCTION grants.payment_batch_row(p_id bigint)
RETURNS TABLE (id bigint, programme text, message_id text, execution_date date, due_by date, status text,
               debtor_name text, debtor_kind text, debtor_number text, debtor_bic text, created_by text,
               created_at timestamptz, withdrawn_by text, withdrawn_at timestamptz, withdraw_reason text,
               transactions bigint, control_sum bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT b.id, p.name, b.message_id, b.execution_date, b.due_by, b.status, b.debtor_name, b.debtor_kind,
           b.debtor_number, b.debtor_bic, b.created_by, b.created_at, b.withdrawn_by, b.withdrawn_at, b.withdraw_reason,
           (SELECT count(*) FROM grants.payment_batch_item i WHERE i.batch_id = b.id),
           (SELECT coalesce(sum(i.amount), 0)::bigint FROM grants.payment_batch_item i WHERE i.batch_id = b.id)
      FROM grants.payment_batch b JOIN grants.programme p ON p.id = b.programme_id
     WHERE b.id = p_id
$$;

-- A claim's OCR reference: the grant's id, a length digit (the reference's length mod 10) and a Luhn check digit
-- (OCRReference.make(base:lengthDigit:) in GrantsCore). Set as the settlement is inserted, when it opens a
-- claim, whatever the writer gave; never changed afterwards.
CREATE OR REPLACE FUNCTION grants.claim_ocr_reference(p_grant bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT b.base || grants.luhn_check_digit(b.base)
      FROM (SELECT p_grant::text || ((length(p_grant::text) + 2) % 10)::text AS base) b
$$;

CREATE OR REPLACE FUNCTION grants.settlement_ocr_reference() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.ocr_reference IS DISTINCT FROM OLD.ocr_reference THEN
            RAISE EXCEPTION 'the OCR reference of a claim never changes'
                USING ERRCODE = 'GR001',
                      DETAIL = grants.rule_detail('append_only', 'settlement',
                                                  (SELECT g.reference FROM grants.grant g WHERE g.id = OLD.grant_id));
        END IF;
        RETURN NEW;
    END IF;
    NEW.ocr_reference := CASE WHEN NEW.claimed > 0 THEN grants.claim_ocr_reference(NEW.grant_id) END;
    RETURN NEW;
END
$$;
