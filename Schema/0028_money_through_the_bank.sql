-- Money through the bank (DESIGN §11): the programme's own account (the debtor of its payment files), payee
-- accounts per organisation with four-eyes verification, and payment batches (ISO 20022 pain.001). The rule
-- functions and trigger functions are defined by Schema/rules/bank.sql (repeatable, applied after the numbered
-- migrations); the stubs below only let the constraints and triggers be created, and raise if they were ever
-- called before it.

CREATE FUNCTION grants.iban_valid(iban text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN RAISE EXCEPTION 'grants.iban_valid is defined by Schema/rules/bank.sql' USING ERRCODE = 'XX000'; END $$;
CREATE FUNCTION grants.bic_valid(bic text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN RAISE EXCEPTION 'grants.bic_valid is defined by Schema/rules/bank.sql' USING ERRCODE = 'XX000'; END $$;
CREATE FUNCTION grants.bankgiro_valid(digits text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN RAISE EXCEPTION 'grants.bankgiro_valid is defined by Schema/rules/bank.sql' USING ERRCODE = 'XX000'; END $$;
CREATE FUNCTION grants.account_valid(kind text, number text, bic text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN RAISE EXCEPTION 'grants.account_valid is defined by Schema/rules/bank.sql' USING ERRCODE = 'XX000'; END $$;
CREATE FUNCTION grants.payee_account_verification_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'grants.payee_account_verification_guard is defined by Schema/rules/bank.sql' USING ERRCODE = 'XX000'; END $$;
CREATE FUNCTION grants.payment_batch_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'grants.payment_batch_guard is defined by Schema/rules/bank.sql' USING ERRCODE = 'XX000'; END $$;
CREATE FUNCTION grants.payment_batch_item_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'grants.payment_batch_item_guard is defined by Schema/rules/bank.sql' USING ERRCODE = 'XX000'; END $$;
CREATE FUNCTION grants.disbursement_in_live_batch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'grants.disbursement_in_live_batch is defined by Schema/rules/bank.sql' USING ERRCODE = 'XX000'; END $$;

-- The programme's own account: an IBAN (with its bank's BIC) or a Bankgiro number, and the name payment files
-- give the debtor.
ALTER TABLE grants.programme_settings
    ADD COLUMN debtor_name text CHECK (length(debtor_name) BETWEEN 1 AND 70),
    ADD COLUMN debtor_iban text CHECK (grants.iban_valid(debtor_iban)),
    ADD COLUMN debtor_bic text CHECK (grants.bic_valid(debtor_bic)),
    ADD COLUMN debtor_bankgiro text CHECK (grants.bankgiro_valid(debtor_bankgiro)),
    ADD CONSTRAINT debtor_one_account CHECK (debtor_iban IS NULL OR debtor_bankgiro IS NULL);
-- Its return type grows: the repeatable definitions create them again (a new database has none yet).
DROP FUNCTION IF EXISTS grants_api.set_programme_settings(text, jsonb, text);
DROP FUNCTION IF EXISTS grants.programme_row(bigint);

-- Payee accounts: every account ever set for an organisation, newest last; never changed or removed. The
-- current account is the newest; it is used only once a second person has verified it.
CREATE TABLE grants.payee_account (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id  bigint NOT NULL REFERENCES grants.organisation,
    kind             text NOT NULL CHECK (kind IN ('bankgiro', 'plusgiro', 'iban')),
    number           text NOT NULL,
    bic              text,
    reason           text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    set_by           text NOT NULL CONSTRAINT payee_account_set_by_person REFERENCES grants.person (login),
    set_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payee_account_number_valid CHECK (grants.account_valid(kind, number, bic))
);
CREATE INDEX payee_account_organisation ON grants.payee_account (organisation_id, id);

CREATE TABLE grants.payee_account_verification (
    account_id   bigint PRIMARY KEY REFERENCES grants.payee_account,
    verified_by  text NOT NULL CONSTRAINT payee_account_verified_by_person REFERENCES grants.person (login),
    verified_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER payee_account_append_only BEFORE UPDATE OR DELETE ON grants.payee_account
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER payee_account_no_truncate BEFORE TRUNCATE ON grants.payee_account
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER payee_account_verification_append_only BEFORE UPDATE OR DELETE ON grants.payee_account_verification
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER payee_account_verification_no_truncate BEFORE TRUNCATE ON grants.payee_account_verification
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();
-- Four-eyes: whoever set an account does not verify it.
CREATE TRIGGER payee_account_verification_four_eyes BEFORE INSERT ON grants.payee_account_verification
    FOR EACH ROW EXECUTE FUNCTION grants.payee_account_verification_guard();

-- Payment batches: one pain.001 message each. What the file says is stored with the batch and its items (the
-- debtor, each creditor's account and name, the remittance text), so that exporting it again gives the same
-- bytes whatever changes later.
CREATE TABLE grants.payment_batch (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_id     bigint NOT NULL REFERENCES grants.programme,
    message_id       text NOT NULL UNIQUE CHECK (message_id ~ '^[A-Za-z0-9-]{1,35}$'),
    execution_date   date NOT NULL,
    due_by           date NOT NULL,
    debtor_name      text NOT NULL CHECK (length(debtor_name) BETWEEN 1 AND 70),
    debtor_kind      text NOT NULL CHECK (debtor_kind IN ('bankgiro', 'iban')),
    debtor_number    text NOT NULL,
    debtor_bic       text,
    status           text NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'withdrawn')),
    created_by       text NOT NULL CONSTRAINT payment_batch_created_by_person REFERENCES grants.person (login),
    created_at       timestamptz NOT NULL DEFAULT now(),
    withdrawn_by     text CONSTRAINT payment_batch_withdrawn_by_person REFERENCES grants.person (login),
    withdrawn_at     timestamptz,
    withdraw_reason  text CHECK (length(withdraw_reason) BETWEEN 1 AND 1000),
    CONSTRAINT payment_batch_debtor_valid CHECK (grants.account_valid(debtor_kind, debtor_number, debtor_bic)),
    CONSTRAINT payment_batch_withdrawn CHECK (
        (status = 'withdrawn') = (withdrawn_by IS NOT NULL AND withdrawn_at IS NOT NULL AND withdraw_reason IS NOT NULL))
);

CREATE TABLE grants.payment_batch_item (
    batch_id          bigint NOT NULL REFERENCES grants.payment_batch,
    disbursement_id   bigint NOT NULL REFERENCES grants.disbursement,
    payee_account_id  bigint NOT NULL REFERENCES grants.payee_account,
    -- The tranche's identity in every payment file and bank notification, for life (ISO 20022 Max35Text).
    end_to_end_id     text NOT NULL CHECK (end_to_end_id ~ '^[A-Za-z0-9-]{1,35}$'),
    amount            bigint NOT NULL CHECK (amount > 0),
    currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    creditor_name     text NOT NULL CHECK (length(creditor_name) BETWEEN 1 AND 70),
    remittance        text NOT NULL CHECK (length(remittance) BETWEEN 1 AND 140),
    -- sent: in the file; withdrawn: the batch was withdrawn; rejected: the bank refused it; booked: the bank paid it.
    status            text NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'withdrawn', 'rejected', 'booked')),
    status_reason     text CHECK (length(status_reason) <= 1000),
    PRIMARY KEY (batch_id, disbursement_id)
);
-- A tranche is in at most one live batch.
CREATE UNIQUE INDEX payment_batch_item_one_live ON grants.payment_batch_item (disbursement_id) WHERE status IN ('sent', 'booked');

CREATE TRIGGER payment_batch_guard BEFORE UPDATE OR DELETE ON grants.payment_batch
    FOR EACH ROW EXECUTE FUNCTION grants.payment_batch_guard();
CREATE TRIGGER payment_batch_no_truncate BEFORE TRUNCATE ON grants.payment_batch
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER payment_batch_item_guard BEFORE UPDATE OR DELETE ON grants.payment_batch_item
    FOR EACH ROW EXECUTE FUNCTION grants.payment_batch_item_guard();
CREATE TRIGGER payment_batch_item_no_truncate BEFORE TRUNCATE ON grants.payment_batch_item
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();

-- A tranche in a live batch is neither cancelled nor sent back to be attested again while the bank has it.
CREATE TRIGGER disbursement_in_live_batch BEFORE UPDATE OF status ON grants.disbursement
    FOR EACH ROW WHEN (NEW.status IN ('scheduled', 'cancelled') AND OLD.status = 'attested')
    EXECUTE FUNCTION grants.disbursement_in_live_batch();

SELECT grants.apply_privileges();
