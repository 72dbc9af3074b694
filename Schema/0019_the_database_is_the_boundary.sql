-- The database is the boundary (tables). Every write goes through one function per domain operation in the
-- schema grants_api (Schema/api/*.sql, re-applied whenever its text changes); who may call which function is
-- Schema/privileges/roles.sql. This migration holds what changes tables:
--
-- * People are registered. grants.person is the register; every column that names who acted is a foreign key
--   to it, so an unregistered name (another spelling, a look-alike, a typo) cannot be stored by any path.
--   The people who already acted are registered under the name they acted as.
-- * Every table of records refuses TRUNCATE, for the owner too.
-- * A tranche always has a number (a reversal carries the number of the tranche it reverses).
-- * The schema grants_api exists; its functions are SECURITY DEFINER, owned by the owner, with a pinned
--   search_path.

CREATE SCHEMA IF NOT EXISTS grants_api;
REVOKE ALL ON SCHEMA grants_api FROM PUBLIC;

CREATE TABLE grants.person (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login       text NOT NULL UNIQUE CHECK (length(login) BETWEEN 1 AND 200),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200 AND name !~ '[\x00-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]'),
    added_by    text REFERENCES grants.person (login),
    added_login text NOT NULL DEFAULT session_user,
    added_at    timestamptz NOT NULL DEFAULT now(),
    retired_by  text REFERENCES grants.person (login),
    retired_at  timestamptz,
    CONSTRAINT person_login_normalised CHECK (login = grants.actor_name(login)),
    CONSTRAINT person_retired_together CHECK ((retired_at IS NULL) = (retired_by IS NULL) OR retired_by IS NULL)
);
COMMENT ON TABLE grants.person IS 'The person register: every actor column refers to a login here (DESIGN: people are registered, not typed).';

-- A person is never deleted or renamed (history names them); retiring is the one change.
CREATE FUNCTION grants.person_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.login IS DISTINCT FROM OLD.login OR NEW.id IS DISTINCT FROM OLD.id
       OR NEW.added_by IS DISTINCT FROM OLD.added_by OR NEW.added_at IS DISTINCT FROM OLD.added_at
       OR (OLD.retired_at IS NOT NULL AND (NEW.retired_at, NEW.retired_by) IS DISTINCT FROM (OLD.retired_at, OLD.retired_by)) THEN
        RAISE EXCEPTION 'person %: only retiring changes a registered person', OLD.login
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'person', OLD.login);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER person_guard BEFORE UPDATE OR DELETE ON grants.person
    FOR EACH ROW EXECUTE FUNCTION grants.person_guard();

-- Everyone who already acted, under the name they acted as (already normalised by 0009's rules).
INSERT INTO grants.person (login, name, added_login)
SELECT DISTINCT actor, actor, 'migration 0019'
  FROM (SELECT submitted_by FROM grants.application
        UNION SELECT decided_by FROM grants.approval
        UNION SELECT closed_by FROM grants.grant
        UNION SELECT amended_by FROM grants.grant_amendment
        UNION SELECT scheduled_by FROM grants.disbursement
        UNION SELECT attested_by FROM grants.disbursement
        UNION SELECT paid_by FROM grants.disbursement
        UNION SELECT cancelled_by FROM grants.disbursement
        UNION SELECT actor FROM grants.idempotency_key
        UNION SELECT person FROM grants.conflict_of_interest
        UNION SELECT declared_by FROM grants.conflict_of_interest
        UNION SELECT created_by FROM grants.reporting_requirement
        UNION SELECT changed_by FROM grants.reporting_requirement
        UNION SELECT settled_by FROM grants.settlement
        UNION SELECT received_by FROM grants.repayment
        UNION SELECT added_by FROM grants.contact
        UNION SELECT erased_by FROM grants.contact
        UNION SELECT updated_by FROM grants.programme_settings) AS a(actor)
 WHERE actor IS NOT NULL AND actor = grants.actor_name(actor) AND actor <> '';

-- Recorded history is not rewritten (no trigger is switched off to do it): a name stored before 0009 normalised
-- names, and a tranche written without a number, stay as they were. The rules below hold for every new row;
-- they are validated over the old rows at the end, and one that old rows break stays NOT VALID with a NOTICE
-- naming it (new rows are checked all the same).

-- A tranche always has a number (a reversal carries the number of what it reverses).
ALTER TABLE grants.disbursement ADD CONSTRAINT disbursement_tranche_numbered CHECK (tranche IS NOT NULL) NOT VALID;
-- Reversals share their original's number.
DROP INDEX grants.disbursement_live_tranche;
CREATE UNIQUE INDEX disbursement_live_tranche ON grants.disbursement (grant_id, tranche)
    WHERE status NOT IN ('cancelled', 'reversal') AND tranche IS NOT NULL;

-- Every actor is a registered person: a real foreign key on each column that names who acted.
ALTER TABLE grants.application ADD CONSTRAINT application_submitted_by_person
    FOREIGN KEY (submitted_by) REFERENCES grants.person (login) NOT VALID;
ALTER TABLE grants.approval ADD CONSTRAINT approval_decided_by_person
    FOREIGN KEY (decided_by) REFERENCES grants.person (login) NOT VALID;
ALTER TABLE grants.grant ADD CONSTRAINT grant_closed_by_person
    FOREIGN KEY (closed_by) REFERENCES grants.person (login) NOT VALID;
ALTER TABLE grants.grant_amendment ADD CONSTRAINT grant_amendment_amended_by_person
    FOREIGN KEY (amended_by) REFERENCES grants.person (login) NOT VALID;
ALTER TABLE grants.disbursement ADD CONSTRAINT disbursement_scheduled_by_person
    FOREIGN KEY (scheduled_by) REFERENCES grants.person (login) NOT VALID;
ALTER TABLE grants.disbursement ADD CONSTRAINT disbursement_attested_by_person
    FOREIGN KEY (attested_by) REFERENCES grants.person (login) NOT VALID;
ALTER TABLE grants.disbursement ADD CONSTRAINT disbursement_paid_by_person
    FOREIGN KEY (paid_by) REFERENCES grants.person (login) NOT VALID;
ALTER TABLE grants.disbursement ADD CONSTRAINT disbursement_cancelled_by_person
    FOREIGN KEY (cancelled_by) REFERENCES grants.person (login) NOT VALID;
ALTER TABLE grants.conflict_of_interest ADD CONSTRAINT conflict_of_interest_person_person
    FOREIGN KEY (person) REFERENCES grants.person (login) NOT VALID;
ALTER TABLE grants.conflict_of_interest ADD CONSTRAINT conflict_of_interest_declared_by_person
    FOREIGN KEY (declared_by) REFERENCES grants.person (login) NOT VALID;
ALTER TABLE grants.reporting_requirement ADD CONSTRAINT reporting_requirement_created_by_person
    FOREIGN KEY (created_by) REFERENCES grants.person (login) NOT VALID;
ALTER TABLE grants.reporting_requirement ADD CONSTRAINT reporting_requirement_changed_by_person
    FOREIGN KEY (changed_by) REFERENCES grants.person (login) NOT VALID;
ALTER TABLE grants.settlement ADD CONSTRAINT settlement_settled_by_person
    FOREIGN KEY (settled_by) REFERENCES grants.person (login) NOT VALID;
ALTER TABLE grants.repayment ADD CONSTRAINT repayment_received_by_person
    FOREIGN KEY (received_by) REFERENCES grants.person (login) NOT VALID;
ALTER TABLE grants.contact ADD CONSTRAINT contact_added_by_person
    FOREIGN KEY (added_by) REFERENCES grants.person (login) NOT VALID;
ALTER TABLE grants.contact ADD CONSTRAINT contact_erased_by_person
    FOREIGN KEY (erased_by) REFERENCES grants.person (login) NOT VALID;
ALTER TABLE grants.programme_settings ADD CONSTRAINT programme_settings_updated_by_person
    FOREIGN KEY (updated_by) REFERENCES grants.person (login) NOT VALID;
CREATE INDEX conflict_of_interest_person ON grants.conflict_of_interest (person);

-- Validate over the rows recorded before this migration; see above.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT conrelid::regclass AS tbl, conname FROM pg_constraint
              WHERE NOT convalidated AND connamespace = 'grants'::regnamespace
                AND (conname LIKE '%\_person' OR conname = 'disbursement_tranche_numbered')
    LOOP
        BEGIN
            EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', c.tbl, c.conname);
        EXCEPTION WHEN foreign_key_violation OR check_violation THEN
            RAISE NOTICE 'rows recorded before 0019 break %: it holds for new rows only', c.conname;
        END;
    END LOOP;
END
$$;

-- Every table of records refuses TRUNCATE, the owner's included (the others already did).
CREATE TRIGGER approval_no_truncate BEFORE TRUNCATE ON grants.approval
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER grant_amendment_no_truncate BEFORE TRUNCATE ON grants.grant_amendment
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER application_partner_no_truncate BEFORE TRUNCATE ON grants.application_partner
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER application_theme_no_truncate BEFORE TRUNCATE ON grants.application_theme
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER programme_no_truncate BEFORE TRUNCATE ON grants.programme
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER programme_settings_no_truncate BEFORE TRUNCATE ON grants.programme_settings
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER idempotency_key_no_truncate BEFORE TRUNCATE ON grants.idempotency_key
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER person_no_truncate BEFORE TRUNCATE ON grants.person
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();
-- Links of an application to its partners and themes are written with the application and never change.
CREATE TRIGGER application_partner_append_only BEFORE UPDATE OR DELETE ON grants.application_partner
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER application_theme_append_only BEFORE UPDATE OR DELETE ON grants.application_theme
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_change();

-- Privileges are now one definition, Schema/privileges/roles.sql (grants.apply_privileges()); the per-topic
-- helpers it used to call are gone.
DROP FUNCTION grants.apply_privileges_after_award();
DROP FUNCTION grants.apply_privileges_programme_settings();
