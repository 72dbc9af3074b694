-- The references that recording a round writes by the ten thousand are checked once per statement, over all of
-- its rows, instead of one lookup per row and reference. A foreign key checks each new row on its own, by a
-- query of its own: recording a 10 000-grant round made about 200 000 such checks, a third of its time.
--
-- The rule is the one the foreign keys kept, for every writer (raw SQL, COPY, the table owner):
-- - Child side: an AFTER statement trigger per table looks up every new row's references in one query and
--   refuses the statement if one is missing. The error is the foreign key's own: SQLSTATE 23503, the same
--   message, CONSTRAINT (the name the foreign key had), TABLE and DETAIL "Key (col)=(value) is not present in
--   table …". A row may not be moved to another parent afterwards (BEFORE UPDATE triggers, or the guards of
--   0008 and 0009 that already keep these columns).
-- - Parent side: a foreign key also locks the parent row against a concurrent DELETE. Here the parents are
--   never deleted and their keys never change, for the owner too (as applications, grants and disbursements
--   already were), so a parent a check has seen stays: no lock is needed, and no race between a writer and a
--   deleter is possible.
--
-- The foreign keys replaced (each by the trigger named after its table, `<table>_references_exist`):
--   application.applicant_id               → organisation.id
--   application (round_id, programme_id)   → allocation_round (id, programme_id)
--   application_partner.application_id     → application.id
--   application_partner.organisation_id    → organisation.id
--   application_theme.application_id       → application.id
--   application_theme.theme_code           → theme.code
--   approval.application_id                → application.id
--   grant.application_id                   → application.id
--   grant (round_id, programme_id)         → allocation_round (id, programme_id)
--   disbursement.grant_id                  → grant.id
-- Other foreign keys stay as they were: they are written a row at a time, or are mostly NULL.
--
-- Each lookup probes the parent's primary key from an array of the new rows' keys: the planner sees a short
-- function scan and a nested loop, so a one-row insert costs one index probe and a 30 000-row insert stays
-- linear, whatever it guesses of a transition table's size when it caches the plan.

-- The foreign key's own error, under the name the foreign key had.
CREATE FUNCTION grants.refuse_missing_reference(child text, constraint_name text, columns text, key text, parent text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', child, constraint_name
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = constraint_name, TABLE = child, SCHEMA = 'grants',
              DETAIL = format('Key (%s)=(%s) is not present in table "%s".', columns, key, parent);
END
$$;

CREATE FUNCTION grants.application_references_exist() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    missing text;
BEGIN
    SELECT k::text INTO missing FROM unnest(ARRAY(SELECT applicant_id FROM new_rows)) AS k
     WHERE NOT EXISTS (SELECT 1 FROM grants.organisation o WHERE o.id = k) LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_missing_reference('application', 'application_applicant_id_fkey', 'applicant_id', missing,
                                                'organisation');
    END IF;
    SELECT format('%s, %s', n.round_id, n.programme_id) INTO missing
      FROM (SELECT DISTINCT round_id, programme_id FROM new_rows) AS n
     WHERE NOT EXISTS (SELECT 1 FROM grants.allocation_round r WHERE r.id = n.round_id AND r.programme_id = n.programme_id)
     LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_missing_reference('application', 'application_round_id_programme_id_fkey',
                                                'round_id, programme_id', missing, 'allocation_round');
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION grants.application_partner_references_exist() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    missing text;
BEGIN
    SELECT k::text INTO missing FROM unnest(ARRAY(SELECT application_id FROM new_rows)) AS k
     WHERE NOT EXISTS (SELECT 1 FROM grants.application a WHERE a.id = k) LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_missing_reference('application_partner', 'application_partner_application_id_fkey',
                                                'application_id', missing, 'application');
    END IF;
    SELECT k::text INTO missing FROM unnest(ARRAY(SELECT organisation_id FROM new_rows)) AS k
     WHERE NOT EXISTS (SELECT 1 FROM grants.organisation o WHERE o.id = k) LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_missing_reference('application_partner', 'application_partner_organisation_id_fkey',
                                                'organisation_id', missing, 'organisation');
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION grants.application_theme_references_exist() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    missing text;
BEGIN
    SELECT k::text INTO missing FROM unnest(ARRAY(SELECT application_id FROM new_rows)) AS k
     WHERE NOT EXISTS (SELECT 1 FROM grants.application a WHERE a.id = k) LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_missing_reference('application_theme', 'application_theme_application_id_fkey',
                                                'application_id', missing, 'application');
    END IF;
    -- A round uses a handful of themes: each distinct code is looked up once.
    SELECT k INTO missing FROM (SELECT DISTINCT theme_code AS k FROM new_rows) AS n
     WHERE NOT EXISTS (SELECT 1 FROM grants.theme t WHERE t.code = n.k) LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_missing_reference('application_theme', 'application_theme_theme_code_fkey', 'theme_code',
                                                missing, 'theme');
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION grants.approval_references_exist() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    missing text;
BEGIN
    SELECT k::text INTO missing FROM unnest(ARRAY(SELECT application_id FROM new_rows)) AS k
     WHERE NOT EXISTS (SELECT 1 FROM grants.application a WHERE a.id = k) LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_missing_reference('approval', 'approval_application_id_fkey', 'application_id', missing,
                                                'application');
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION grants.grant_references_exist() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    missing text;
BEGIN
    SELECT k::text INTO missing FROM unnest(ARRAY(SELECT application_id FROM new_rows)) AS k
     WHERE NOT EXISTS (SELECT 1 FROM grants.application a WHERE a.id = k) LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_missing_reference('grant', 'grant_application_id_fkey', 'application_id', missing,
                                                'application');
    END IF;
    SELECT format('%s, %s', n.round_id, n.programme_id) INTO missing
      FROM (SELECT DISTINCT round_id, programme_id FROM new_rows) AS n
     WHERE NOT EXISTS (SELECT 1 FROM grants.allocation_round r WHERE r.id = n.round_id AND r.programme_id = n.programme_id)
     LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_missing_reference('grant', 'grant_round_id_programme_id_fkey', 'round_id, programme_id',
                                                missing, 'allocation_round');
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION grants.disbursement_references_exist() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    missing text;
BEGIN
    SELECT k::text INTO missing FROM unnest(ARRAY(SELECT grant_id FROM new_rows)) AS k
     WHERE NOT EXISTS (SELECT 1 FROM grants.grant g WHERE g.id = k) LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_missing_reference('disbursement', 'disbursement_grant_id_fkey', 'grant_id', missing, 'grant');
    END IF;
    RETURN NULL;
END
$$;

-- A row keeps the parents it was written with (where no guard of 0008/0009 keeps them already).
CREATE FUNCTION grants.refuse_reference_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows keep the rows they refer to: UPDATE of % refused', TG_TABLE_NAME, TG_ARGV[0]
        USING ERRCODE = 'GR001', TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA,
              DETAIL = grants.rule_detail('append_only', TG_TABLE_NAME, NULL);
END
$$;

-- Parents are never deleted and keep their keys.
CREATE FUNCTION grants.refuse_parent_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are referred to by the rows recorded after them: % refused', TG_TABLE_NAME,
            CASE WHEN TG_OP = 'UPDATE' THEN 'a change of key' ELSE TG_OP END
        USING ERRCODE = 'GR001', TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA,
              DETAIL = grants.rule_detail('append_only', TG_TABLE_NAME,
                                          CASE WHEN TG_LEVEL = 'ROW' THEN coalesce(to_jsonb(OLD) ->> 'id',
                                                                                   to_jsonb(OLD) ->> 'code') END);
END
$$;

ALTER TABLE grants.application DROP CONSTRAINT application_applicant_id_fkey,
    DROP CONSTRAINT application_round_id_programme_id_fkey;
ALTER TABLE grants.application_partner DROP CONSTRAINT application_partner_application_id_fkey,
    DROP CONSTRAINT application_partner_organisation_id_fkey;
ALTER TABLE grants.application_theme DROP CONSTRAINT application_theme_application_id_fkey,
    DROP CONSTRAINT application_theme_theme_code_fkey;
ALTER TABLE grants.approval DROP CONSTRAINT approval_application_id_fkey;
ALTER TABLE grants.grant DROP CONSTRAINT grant_application_id_fkey, DROP CONSTRAINT grant_round_id_programme_id_fkey;
ALTER TABLE grants.disbursement DROP CONSTRAINT disbursement_grant_id_fkey;

CREATE TRIGGER application_references_exist AFTER INSERT ON grants.application
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION grants.application_references_exist();
CREATE TRIGGER application_partner_references_exist AFTER INSERT ON grants.application_partner
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION grants.application_partner_references_exist();
CREATE TRIGGER application_theme_references_exist AFTER INSERT ON grants.application_theme
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION grants.application_theme_references_exist();
CREATE TRIGGER approval_references_exist AFTER INSERT ON grants.approval
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION grants.approval_references_exist();
CREATE TRIGGER grant_references_exist AFTER INSERT ON grants.grant
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION grants.grant_references_exist();
CREATE TRIGGER disbursement_references_exist AFTER INSERT ON grants.disbursement
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION grants.disbursement_references_exist();

-- Rows keep their parents: application's round and applicant (application_guard keeps the round and applicant
-- already, not the programme), the links of an application, and (0008, 0009) a grant's application and round,
-- a disbursement's grant; approvals never change.
CREATE TRIGGER application_keeps_its_parents BEFORE UPDATE OF programme_id, round_id, applicant_id ON grants.application
    FOR EACH ROW WHEN ((NEW.programme_id, NEW.round_id, NEW.applicant_id) IS DISTINCT FROM
                       (OLD.programme_id, OLD.round_id, OLD.applicant_id))
    EXECUTE FUNCTION grants.refuse_reference_change('programme_id, round_id, applicant_id');
CREATE TRIGGER application_partner_keeps_its_parents BEFORE UPDATE OF application_id, organisation_id
    ON grants.application_partner
    FOR EACH ROW WHEN ((NEW.application_id, NEW.organisation_id) IS DISTINCT FROM (OLD.application_id, OLD.organisation_id))
    EXECUTE FUNCTION grants.refuse_reference_change('application_id, organisation_id');
CREATE TRIGGER application_theme_keeps_its_parents BEFORE UPDATE OF application_id, theme_code ON grants.application_theme
    FOR EACH ROW WHEN ((NEW.application_id, NEW.theme_code) IS DISTINCT FROM (OLD.application_id, OLD.theme_code))
    EXECUTE FUNCTION grants.refuse_reference_change('application_id, theme_code');

-- Parents: never deleted, keys never change. Applications and grants were never deleted already (0003/0008).
CREATE TRIGGER organisation_never_deleted BEFORE DELETE ON grants.organisation
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_parent_change();
CREATE TRIGGER organisation_no_truncate BEFORE TRUNCATE ON grants.organisation
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_parent_change();
CREATE TRIGGER organisation_keeps_its_key BEFORE UPDATE OF id ON grants.organisation
    FOR EACH ROW WHEN (NEW.id <> OLD.id) EXECUTE FUNCTION grants.refuse_parent_change();

CREATE TRIGGER theme_never_deleted BEFORE DELETE ON grants.theme
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_parent_change();
CREATE TRIGGER theme_no_truncate BEFORE TRUNCATE ON grants.theme
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_parent_change();
CREATE TRIGGER theme_keeps_its_key BEFORE UPDATE OF code ON grants.theme
    FOR EACH ROW WHEN (NEW.code <> OLD.code) EXECUTE FUNCTION grants.refuse_parent_change();

CREATE TRIGGER round_never_deleted BEFORE DELETE ON grants.allocation_round
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_parent_change();
CREATE TRIGGER round_no_truncate BEFORE TRUNCATE ON grants.allocation_round
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_parent_change();
CREATE TRIGGER round_keeps_its_key BEFORE UPDATE OF id, programme_id ON grants.allocation_round
    FOR EACH ROW WHEN ((NEW.id, NEW.programme_id) IS DISTINCT FROM (OLD.id, OLD.programme_id))
    EXECUTE FUNCTION grants.refuse_parent_change();

CREATE TRIGGER application_no_truncate BEFORE TRUNCATE ON grants.application
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_parent_change();
CREATE TRIGGER application_keeps_its_key BEFORE UPDATE OF id ON grants.application
    FOR EACH ROW WHEN (NEW.id <> OLD.id) EXECUTE FUNCTION grants.refuse_parent_change();

CREATE TRIGGER grant_keeps_its_key BEFORE UPDATE OF id ON grants.grant
    FOR EACH ROW WHEN (NEW.id <> OLD.id) EXECUTE FUNCTION grants.refuse_parent_change();

COMMENT ON TRIGGER application_references_exist ON grants.application IS
    'foreign keys: applicant_id → organisation.id; (round_id, programme_id) → allocation_round (id, programme_id)';
COMMENT ON TRIGGER application_partner_references_exist ON grants.application_partner IS
    'foreign keys: application_id → application.id; organisation_id → organisation.id';
COMMENT ON TRIGGER application_theme_references_exist ON grants.application_theme IS
    'foreign keys: application_id → application.id; theme_code → theme.code';
COMMENT ON TRIGGER approval_references_exist ON grants.approval IS 'foreign key: application_id → application.id';
COMMENT ON TRIGGER grant_references_exist ON grants.grant IS
    'foreign keys: application_id → application.id; (round_id, programme_id) → allocation_round (id, programme_id)';
COMMENT ON TRIGGER disbursement_references_exist ON grants.disbursement IS 'foreign key: grant_id → grant.id';
