-- Programme settings: what the finance exports need to know about the programme that runs the grants (SIE
-- accounts and series, accrual, the IATI publisher and its funder, default IATI codes, the 360Giving prefix).
-- One row per programme, written only through `programme set` (audited as programme.settings_changed with the
-- old and new values). A NULL is "not set": SIE falls back to BAS 6993 / 1930 and no accrual; the open-data
-- exports refuse to run without the identities they publish under.
--
-- And the history the as-of exports read. Every state a report shows must be placed in time by when it was
-- recorded: scheduled_at, attested_at and cancelled_at already say so, a reversal row is recorded when it is
-- inserted (scheduled_at), amendments carry amended_at and approvals recorded_at. Two were missing: when a
-- payment was recorded (paid_on is the bank's date, given by the user) and when a grant was closed (closed_on
-- is given too). Both are now set by triggers from the transaction's clock, so no writer can choose them.

CREATE TABLE grants.programme_settings (
    programme_id           bigint PRIMARY KEY REFERENCES grants.programme,
    sie_cost_account       text CHECK (sie_cost_account ~ '^[0-9]{4}$'),
    sie_bank_account       text CHECK (sie_bank_account ~ '^[0-9]{4}$'),
    sie_liability_account  text CHECK (sie_liability_account ~ '^[0-9]{4}$'),
    sie_series             text CHECK (sie_series ~ '^[A-Za-z0-9]{1,10}$'),
    accrual                boolean,
    iati_publisher_ref     text CHECK (iati_publisher_ref ~ '^[A-Z]{2}-([A-Za-z0-9._-]*[A-Za-z0-9])?$' AND length(iati_publisher_ref) <= 100),
    iati_publisher_name    text CHECK (length(iati_publisher_name) BETWEEN 1 AND 1000),
    iati_publisher_type    text CHECK (iati_publisher_type ~ '^[0-9]{2}$'),
    funder_ref             text CHECK (funder_ref ~ '^[A-Z]{2}-([A-Za-z0-9._-]*[A-Za-z0-9])?$' AND length(funder_ref) <= 100),
    funder_name            text CHECK (length(funder_name) BETWEEN 1 AND 1000),
    giving360_prefix       text CHECK (giving360_prefix ~ '^360G-[A-Za-z0-9][A-Za-z0-9_-]{0,49}$'),
    default_sector         text CHECK (default_sector ~ '^[0-9]{5}$'),
    flow_type              text CHECK (flow_type ~ '^[0-9]{1,3}$'),
    finance_type           text CHECK (finance_type ~ '^[0-9]{1,4}$'),
    aid_type               text CHECK (aid_type ~ '^[A-H][0-9]{2,3}$'),
    collaboration_type     text CHECK (collaboration_type ~ '^[0-9]$'),
    updated_by             text NOT NULL,
    updated_at             timestamptz NOT NULL DEFAULT now(),
    -- Publishing under the funder's identifier (Sida's SE-0) is what the setting exists to prevent.
    CONSTRAINT publisher_is_not_the_funder CHECK (iati_publisher_ref IS DISTINCT FROM funder_ref OR iati_publisher_ref IS NULL)
);

-- When a payment was recorded, and when a grant was closed.
ALTER TABLE grants.disbursement ADD COLUMN paid_at timestamptz;
ALTER TABLE grants.grant ADD COLUMN closed_at timestamptz;

-- What is recorded already: the audit event of the payment or closing where there is one, else the nearest
-- earlier moment the row knows (a payment follows its attestation; a closing is dated closed_on). The guards
-- refuse any change to paid rows and closed grants, so they stand aside for this one statement each.
ALTER TABLE grants.disbursement DISABLE TRIGGER disbursement_update_guard;
UPDATE grants.disbursement d
   SET paid_at = coalesce(
       (SELECT min(e.occurred_at) FROM grants.audit_event e
         WHERE e.entity_kind = 'disbursement' AND e.entity_key = d.id::text AND e.action = 'disbursement.paid'),
       d.attested_at, d.scheduled_at)
 WHERE d.status = 'paid';
ALTER TABLE grants.disbursement ENABLE TRIGGER disbursement_update_guard;

ALTER TABLE grants.grant DISABLE TRIGGER grant_update_guard;
UPDATE grants.grant g
   SET closed_at = coalesce(
       (SELECT min(e.occurred_at) FROM grants.audit_event e
         WHERE e.entity_kind = 'grant' AND e.entity_key = g.reference AND e.action = 'grant.closed'),
       g.closed_on::timestamptz)
 WHERE g.status = 'closed';
ALTER TABLE grants.grant ENABLE TRIGGER grant_update_guard;

CREATE FUNCTION grants.stamp_payment() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.paid_at := CASE WHEN NEW.status = 'paid' AND OLD.status <> 'paid' THEN now() ELSE OLD.paid_at END;
    RETURN NEW;
END
$$;
CREATE TRIGGER disbursement_stamp_payment BEFORE UPDATE ON grants.disbursement
    FOR EACH ROW EXECUTE FUNCTION grants.stamp_payment();

CREATE FUNCTION grants.stamp_closing() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.closed_at := CASE WHEN NEW.status = 'closed' AND OLD.status <> 'closed' THEN now() ELSE OLD.closed_at END;
    RETURN NEW;
END
$$;
CREATE TRIGGER grant_stamp_closing BEFORE UPDATE ON grants.grant
    FOR EACH ROW EXECUTE FUNCTION grants.stamp_closing();

-- A paid row was recorded when it was paid; a reversal when it was inserted.
CREATE FUNCTION grants.recorded_paid_at(status text, paid_at timestamptz, scheduled_at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN status = 'reversal' THEN scheduled_at ELSE paid_at END
$$;

-- Who writes settings: the same writers as elsewhere (a person's own login, grants_staff; an embedding
-- service's, grants_service), through the topic function that apply_privileges() (0011) runs.
CREATE FUNCTION grants.apply_privileges_programme_settings() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    writer text;
BEGIN
    FOREACH writer IN ARRAY ARRAY['grants_staff', 'grants_service'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = writer);
        EXECUTE format('GRANT SELECT, INSERT ON grants.programme_settings TO %I', writer);
        EXECUTE format(
            'GRANT UPDATE (sie_cost_account, sie_bank_account, sie_liability_account, sie_series, accrual, '
            'iati_publisher_ref, iati_publisher_name, iati_publisher_type, funder_ref, funder_name, giving360_prefix, '
            'default_sector, flow_type, finance_type, aid_type, collaboration_type, updated_by, updated_at) '
            'ON grants.programme_settings TO %I', writer);
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grants_finance') THEN
        GRANT SELECT ON grants.programme_settings TO grants_finance;
    END IF;
END
$$;
REVOKE ALL ON FUNCTION grants.apply_privileges_programme_settings() FROM PUBLIC;

-- A person's own login writes only its own name here too (0009).
CREATE TRIGGER programme_settings_actors_are_the_login AFTER INSERT ON grants.programme_settings
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.inserted_actors_are_the_login('updated_by');
CREATE TRIGGER programme_settings_updated_actors_are_the_login BEFORE UPDATE OF updated_by ON grants.programme_settings
    FOR EACH ROW EXECUTE FUNCTION grants.updated_actors_are_the_login('updated_by');

SELECT grants.apply_privileges();
