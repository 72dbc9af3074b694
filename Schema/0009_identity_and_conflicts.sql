-- Who acts is an identity, not free text, and a person with a declared conflict of interest (jäv) with an
-- organisation neither decides on it nor pays it (DESIGN §4).
--
-- Names. grants.actor_name is the database's side of ActorName.key in GrantsCore: Unicode NFC, white space
-- around a name trimmed and inside it one space, lower-cased. The library stores names already normalised
-- (and refuses look-alikes before they get here); the database compares by actor_name wherever it compares
-- people (four-eyes, the login rule, conflicts), so a raw `Anna ` written past the library is still anna.
--
-- Logins. A login that is a person's own (a member of grants_staff or grants_finance, or any other login that
-- is not a service) acts as itself: every actor a write of it stores must be its own name. A login states
-- the actor when it is granted grants_service (the pool login of an embedding service that authenticates its
-- own users), is a superuser, or is (a member of) the schema's owner: those could change anything anyway, and
-- the embedded default database and administrators keep --actor. A login that is both staff and service is a
-- service: granting grants_service is the deliberate act. The login is session_user, the role that
-- authenticated: current_user would not do, since it is the function's owner inside SECURITY DEFINER
-- functions (the totals triggers write through them) and another role after SET ROLE, while session_user
-- changes only by SET SESSION AUTHORIZATION, which only a superuser may run.
--
-- SQLSTATEs: GR005 an actor other than the login (DETAIL keys actor, login); GR006 a declared conflict of
-- interest (DETAIL keys person, organisation). 23514 with CONSTRAINT conflict_person_normalised for a
-- declaration whose person is not a normalised name.

CREATE FUNCTION grants.actor_name(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    -- The bracket is Unicode's White_Space, as Swift's Unicode.Scalar.Properties.isWhitespace has it.
    SELECT lower(btrim(regexp_replace(normalize(name, NFC),
                                      '[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+',
                                      ' ', 'g'), ' '))
$$;

-- The actor every write of this login must name: its own name for a person's login, NULL for a login that
-- states the actor. Fails closed: a login it cannot place is a person.
CREATE FUNCTION grants.login_actor() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN EXISTS (
            SELECT 1 FROM pg_catalog.pg_roles r JOIN pg_catalog.pg_namespace n ON n.nspname = 'grants'
             WHERE r.rolname = session_user
               AND (r.rolsuper
                    OR pg_catalog.pg_has_role(r.oid, n.nspowner, 'MEMBER')
                    OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles s
                                WHERE s.rolname = 'grants_service' AND pg_catalog.pg_has_role(r.oid, s.oid, 'MEMBER'))))
        THEN NULL
        ELSE grants.actor_name(session_user)
    END
$$;

-- Refuses `claimed` as the actor of a write by a person's own login, unless it is that person.
CREATE FUNCTION grants.check_actor(claimed text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    login text;
BEGIN
    IF claimed IS NULL THEN
        RETURN;
    END IF;
    login := grants.login_actor();
    IF login IS NOT NULL AND grants.actor_name(claimed) IS DISTINCT FROM login THEN
        RAISE EXCEPTION 'the login % is a person''s own login and acts as %, not as %', session_user, login, claimed
            USING ERRCODE = 'GR005', HINT = 'only a login granted grants_service states who acts',
                  DETAIL = grants.rule_detail('actor_mismatch', 'actor', claimed,
                                              jsonb_build_object('actor', claimed, 'login', session_user::text));
    END IF;
END
$$;

-- Inserts: one set-based check per statement over the columns named as the trigger's arguments (a round's
-- record inserts tens of thousands of rows that name their actor).
CREATE FUNCTION grants.inserted_actors_are_the_login() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    login text := grants.login_actor();
    actor_column text;
    claimed text;
BEGIN
    IF login IS NULL THEN
        RETURN NULL;
    END IF;
    FOREACH actor_column IN ARRAY TG_ARGV LOOP
        EXECUTE format('SELECT %1$I FROM new_rows WHERE grants.actor_name(%1$I) <> $1 LIMIT 1', actor_column)
           INTO claimed USING login;
        PERFORM grants.check_actor(claimed);
    END LOOP;
    RETURN NULL;
END
$$;

-- Updates: the actor columns (the trigger's arguments) that the update changes.
CREATE FUNCTION grants.updated_actors_are_the_login() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    new_row jsonb := to_jsonb(NEW);
    old_row jsonb := to_jsonb(OLD);
    actor_column text;
BEGIN
    FOREACH actor_column IN ARRAY TG_ARGV LOOP
        IF new_row ->> actor_column IS DISTINCT FROM old_row ->> actor_column THEN
            PERFORM grants.check_actor(new_row ->> actor_column);
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;

CREATE TRIGGER application_actors_are_the_login AFTER INSERT ON grants.application
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.inserted_actors_are_the_login('submitted_by');
CREATE TRIGGER approval_actors_are_the_login AFTER INSERT ON grants.approval
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.inserted_actors_are_the_login('decided_by');
CREATE TRIGGER grant_amendment_actors_are_the_login AFTER INSERT ON grants.grant_amendment
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.inserted_actors_are_the_login('amended_by');
CREATE TRIGGER disbursement_actors_are_the_login AFTER INSERT ON grants.disbursement
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION
        grants.inserted_actors_are_the_login('scheduled_by', 'attested_by', 'paid_by', 'cancelled_by');
CREATE TRIGGER idempotency_key_actors_are_the_login AFTER INSERT ON grants.idempotency_key
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.inserted_actors_are_the_login('actor');
CREATE TRIGGER audit_event_actors_are_the_login AFTER INSERT ON grants.audit_event
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.inserted_actors_are_the_login('actor');
CREATE TRIGGER disbursement_updated_actors_are_the_login BEFORE UPDATE OF attested_by, paid_by, cancelled_by
    ON grants.disbursement
    FOR EACH ROW EXECUTE FUNCTION grants.updated_actors_are_the_login('attested_by', 'paid_by', 'cancelled_by');
CREATE TRIGGER grant_updated_actors_are_the_login BEFORE UPDATE OF closed_by ON grants.grant
    FOR EACH ROW EXECUTE FUNCTION grants.updated_actors_are_the_login('closed_by');

-- Four-eyes compares people, not spellings: 0008's guard with the names normalised.
CREATE OR REPLACE FUNCTION grants.disbursement_update_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('paid', 'reversal') THEN
        RAISE EXCEPTION 'disbursement % is %: it is never updated; reverse it instead', OLD.id, OLD.status
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'disbursement', OLD.id::text);
    END IF;
    IF NOT ((OLD.status = 'scheduled' AND NEW.status IN ('attested', 'cancelled'))
         OR (OLD.status = 'attested' AND NEW.status IN ('paid', 'cancelled'))) THEN
        RAISE EXCEPTION 'disbursement % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'disbursement', OLD.id::text,
                                              jsonb_build_object('from', OLD.status, 'to', NEW.status));
    END IF;
    IF (NEW.grant_id, NEW.amount, NEW.currency, NEW.due_on, NEW.tranche, NEW.reverses_id, NEW.scheduled_by, NEW.scheduled_at)
        IS DISTINCT FROM (OLD.grant_id, OLD.amount, OLD.currency, OLD.due_on, OLD.tranche, OLD.reverses_id,
        OLD.scheduled_by, OLD.scheduled_at) THEN
        RAISE EXCEPTION 'disbursement % keeps its grant, amount and due date; cancel it and schedule anew', OLD.id
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'disbursement', OLD.id::text);
    END IF;
    IF NEW.attested_by IS NOT NULL AND grants.actor_name(NEW.attested_by) = grants.actor_name(NEW.scheduled_by) THEN
        RAISE EXCEPTION 'four-eyes: % scheduled disbursement % and cannot also attest it', NEW.attested_by, OLD.id
            USING ERRCODE = '23514', CONSTRAINT = 'four_eyes', TABLE = 'disbursement', SCHEMA = 'grants',
                  DETAIL = grants.rule_detail('four_eyes', 'disbursement', OLD.id::text,
                                              jsonb_build_object('actor', grants.actor_name(NEW.attested_by)));
    END IF;
    RETURN NEW;
END
$$;

-- Declared conflicts of interest: append-only, like every other record of who may do what.
CREATE TABLE grants.conflict_of_interest (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person           text NOT NULL CHECK (length(person) BETWEEN 1 AND 200),
    organisation_id  bigint NOT NULL REFERENCES grants.organisation,
    reason           text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    declared_by      text NOT NULL,
    declared_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT conflict_person_normalised CHECK (person = grants.actor_name(person)),
    UNIQUE (person, organisation_id)
);
CREATE INDEX conflict_of_interest_organisation ON grants.conflict_of_interest (organisation_id);

CREATE TRIGGER conflict_of_interest_append_only BEFORE UPDATE OR DELETE ON grants.conflict_of_interest
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER conflict_of_interest_no_truncate BEFORE TRUNCATE ON grants.conflict_of_interest
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER conflict_of_interest_actors_are_the_login AFTER INSERT ON grants.conflict_of_interest
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.inserted_actors_are_the_login('declared_by');

-- The first declared conflict between `actor` and the applicant or a partner of an application, if any. The
-- library asks it before it writes, and the triggers below ask it of every row written, so both say the same.
CREATE FUNCTION grants.declared_conflict(actor text, application bigint)
RETURNS TABLE (person text, organisation text)
LANGUAGE sql STABLE AS $$
    SELECT c.person, o.name || coalesce(' (' || o.org_number || ')', '')
      FROM grants.conflict_of_interest c JOIN grants.organisation o ON o.id = c.organisation_id
     WHERE c.person = grants.actor_name(actor)
       AND (c.organisation_id = (SELECT a.applicant_id FROM grants.application a WHERE a.id = application)
            OR c.organisation_id IN (SELECT p.organisation_id FROM grants.application_partner p
                                      WHERE p.application_id = application))
     ORDER BY o.name, o.id
     LIMIT 1
$$;

CREATE FUNCTION grants.refuse_conflict(person text, organisation text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'conflict of interest: % has a declared conflict of interest with %', person, organisation
        USING ERRCODE = 'GR006',
              DETAIL = grants.rule_detail('conflict_of_interest', 'organisation', organisation,
                                          jsonb_build_object('person', person, 'organisation', organisation));
END
$$;

-- Approving and rejecting: whoever decides.
CREATE FUNCTION grants.approvals_without_conflict() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    conflict record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM grants.conflict_of_interest) THEN
        RETURN NULL;
    END IF;
    SELECT c.person, c.organisation INTO conflict
      FROM new_rows n CROSS JOIN LATERAL grants.declared_conflict(n.decided_by, n.application_id) c
     LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_conflict(conflict.person, conflict.organisation);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER approval_without_conflict AFTER INSERT ON grants.approval
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.approvals_without_conflict();

-- Scheduling (and a reversal, which is scheduled and paid at once): whoever a new disbursement names.
CREATE FUNCTION grants.disbursements_without_conflict() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    conflict record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM grants.conflict_of_interest) THEN
        RETURN NULL;
    END IF;
    SELECT c.person, c.organisation INTO conflict
      FROM new_rows n
      JOIN grants.grant g ON g.id = n.grant_id
      CROSS JOIN LATERAL unnest(ARRAY[n.scheduled_by, n.attested_by, n.paid_by]) AS who(actor)
      CROSS JOIN LATERAL grants.declared_conflict(who.actor, g.application_id) c
     LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_conflict(conflict.person, conflict.organisation);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER disbursement_without_conflict AFTER INSERT ON grants.disbursement
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.disbursements_without_conflict();

-- Attesting and paying: whoever the update names.
CREATE FUNCTION grants.disbursement_update_without_conflict() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    application bigint;
    conflict record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM grants.conflict_of_interest) THEN
        RETURN NEW;
    END IF;
    SELECT g.application_id INTO application FROM grants.grant g WHERE g.id = NEW.grant_id;
    SELECT c.person, c.organisation INTO conflict
      FROM unnest(ARRAY[CASE WHEN NEW.attested_by IS DISTINCT FROM OLD.attested_by THEN NEW.attested_by END,
                        CASE WHEN NEW.paid_by IS DISTINCT FROM OLD.paid_by THEN NEW.paid_by END]) AS who(actor)
      CROSS JOIN LATERAL grants.declared_conflict(who.actor, application) c
     LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_conflict(conflict.person, conflict.organisation);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER disbursement_update_without_conflict BEFORE UPDATE OF attested_by, paid_by ON grants.disbursement
    FOR EACH ROW EXECUTE FUNCTION grants.disbursement_update_without_conflict();

-- Privileges: grants_service, the role of an embedding service's pool login, writes through the same paths
-- as staff; both may declare conflicts of interest. (0004's function, now for both writers and the new table.)
CREATE OR REPLACE FUNCTION grants.apply_privileges() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    writer text;
BEGIN
    FOREACH writer IN ARRAY ARRAY['grants_staff', 'grants_service'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = writer);
        EXECUTE format('GRANT USAGE ON SCHEMA grants TO %I', writer);
        EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA grants TO %I', writer);
        EXECUTE format(
            'GRANT INSERT ON grants.programme, grants.allocation_round, grants.organisation, grants.theme, '
            'grants.application, grants.application_partner, grants.application_theme, grants.approval, '
            'grants.grant, grants.grant_amendment, grants.disbursement, grants.idempotency_key, '
            'grants.audit_event, grants.conflict_of_interest TO %I', writer);
        EXECUTE format('GRANT UPDATE (status, decided_on, closed_at) ON grants.allocation_round TO %I', writer);
        EXECUTE format('GRANT UPDATE (status) ON grants.application TO %I', writer);
        EXECUTE format('GRANT UPDATE (status, reclaimed, closed_on, closed_by) ON grants.grant TO %I', writer);
        EXECUTE format(
            'GRANT UPDATE (status, attested_by, attested_at, paid_on, payment_reference, paid_by, cancelled_by, '
            'cancelled_at, reason) ON grants.disbursement TO %I', writer);
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grants_finance') THEN
        GRANT USAGE ON SCHEMA grants TO grants_finance;
        GRANT SELECT ON ALL TABLES IN SCHEMA grants TO grants_finance;
    END IF;
END
$$;

SELECT grants.apply_privileges();
