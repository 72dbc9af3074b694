-- Who acts: names in their one form, a person's own login acting only as itself (GR005), the person register,
-- and declared conflicts of interest (GR006). The current definitions.

CREATE OR REPLACE FUNCTION grants.actor_name(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    -- The bracket is Unicode's White_Space, as Swift's Unicode.Scalar.Properties.isWhitespace has it.
    SELECT lower(btrim(regexp_replace(normalize(name, NFC),
                                      '[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+',
                                      ' ', 'g'), ' '))
$$;

-- Approving and rejecting: whoever decides.
CREATE OR REPLACE FUNCTION grants.approvals_without_conflict() RETURNS trigger
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

-- Refuses `claimed` as the actor of a write by a person's own login, unless it is that person.
CREATE OR REPLACE FUNCTION grants.check_actor(claimed text) RETURNS void
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

-- The first declared conflict between `actor` and the applicant or a partner of an application, if any. The
-- library asks it before it writes, and the triggers below ask it of every row written, so both say the same.
CREATE OR REPLACE FUNCTION grants.declared_conflict(actor text, application bigint)
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

-- Four-eyes compares people, not spellings: 0008's guard with the names normalised.
CREATE OR REPLACE FUNCTION grants.disbursement_update_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('paid', 'reversal') THEN
        RAISE EXCEPTION 'disbursement % is %: it is never updated; reverse it instead', OLD.id, OLD.status
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'disbursement', OLD.id::text);
    END IF;
    -- attested → scheduled: the attestation withdrawn (its payee's account changed, Schema/rules/bank.sql).
    IF NOT ((OLD.status = 'scheduled' AND NEW.status IN ('attested', 'cancelled'))
         OR (OLD.status = 'attested' AND NEW.status IN ('paid', 'cancelled'))
         OR (OLD.status = 'attested' AND NEW.status = 'scheduled' AND NEW.attested_by IS NULL AND NEW.attested_at IS NULL)) THEN
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

-- Attesting and paying: whoever the update names.
CREATE OR REPLACE FUNCTION grants.disbursement_update_without_conflict() RETURNS trigger
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

-- Scheduling (and a reversal, which is scheduled and paid at once): whoever a new disbursement names.
CREATE OR REPLACE FUNCTION grants.disbursements_without_conflict() RETURNS trigger
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

-- Inserts: one set-based check per statement over the columns named as the trigger's arguments (a round's
-- record inserts tens of thousands of rows that name their actor).
CREATE OR REPLACE FUNCTION grants.inserted_actors_are_the_login() RETURNS trigger
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

CREATE OR REPLACE FUNCTION grants.refuse_conflict(person text, organisation text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'conflict of interest: % has a declared conflict of interest with %', person, organisation
        USING ERRCODE = 'GR006',
              DETAIL = grants.rule_detail('conflict_of_interest', 'organisation', organisation,
                                          jsonb_build_object('person', person, 'organisation', organisation));
END
$$;

-- Updates: the actor columns (the trigger's arguments) that the update changes.
CREATE OR REPLACE FUNCTION grants.updated_actors_are_the_login() RETURNS trigger
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

-- The library's check ahead of a write, for one application: PL/pgSQL, so its plan is kept. The triggers
-- keep calling the SQL function declared_conflict, which their set-based statements inline.
CREATE OR REPLACE FUNCTION grants.conflict_for(actor text, application bigint)
RETURNS TABLE (person text, organisation text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY SELECT c.person, c.organisation FROM grants.declared_conflict(actor, application) c;
END
$$;

-- The actor of a person's own login, or NULL for a login that states the actor: a member of the schema's owner or
-- of grants_service. A superuser is a member of every role (pg_has_role), so it states the actor too. Called by
-- every actor trigger, so it reads one catalog row (the schema's), not the role views.
CREATE OR REPLACE FUNCTION grants.login_actor() RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF pg_catalog.pg_has_role(session_user,
                              (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname = 'grants'), 'MEMBER')
       OR coalesce(pg_catalog.pg_has_role(session_user, pg_catalog.to_regrole('grants_service'), 'MEMBER'), false) THEN
        RETURN NULL;
    END IF;
    RETURN grants.actor_name(session_user);
END
$$;

-- A person is never deleted or renamed (history names them); retiring is the one change.
CREATE OR REPLACE FUNCTION grants.person_guard() RETURNS trigger
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

-- Who acts (DESIGN: people are registered, not typed). The current definition: re-applied when it changes.
--
-- grants.acting_person(p_actor) is the one answer to "who does this write": every grants_api function calls it
-- first and stamps what it returns. A person's own login (any login that is neither a service nor the owner:
-- members of grants_staff and grants_finance) acts as itself, whatever p_actor says: a p_actor naming someone
-- else is refused (GR005). A service login (a member of grants_service, the schema's owner, a superuser)
-- states the actor in p_actor. Either way the actor must be a registered person who is not retired (GR010).
-- Names are compared in grants.actor_name's form (NFC, white space trimmed and collapsed, lower case), the
-- form the register stores: `Anna ` is anna; `CECİLİA`, `сесіӏіа` or `STRAUSS` are nobody, and refused.
--
-- SQLSTATE GR010: no such person (DETAIL: rule unknown_person, entity person, key the name given).

CREATE OR REPLACE FUNCTION grants.refuse_unknown_person(given text, why text DEFAULT 'is not a registered person') RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'no such person: % %', coalesce(given, '(none)'), why
        USING ERRCODE = 'GR010', HINT = 'register people with grants_api.person_add (grants-admin person add)',
              DETAIL = grants.rule_detail('unknown_person', 'person', coalesce(given, ''));
END
$$;

CREATE OR REPLACE FUNCTION grants.acting_person(p_actor text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    login text := grants.login_actor();
    actor text;
    retired timestamptz;
BEGIN
    IF login IS NOT NULL THEN
        IF p_actor IS NOT NULL AND grants.actor_name(p_actor) IS DISTINCT FROM login THEN
            PERFORM grants.check_actor(p_actor);
        END IF;
        actor := login;
    ELSE
        IF p_actor IS NULL OR grants.actor_name(p_actor) = '' THEN
            PERFORM grants.refuse_unknown_person(p_actor, 'was not named: a service login states who acts');
        END IF;
        actor := grants.actor_name(p_actor);
    END IF;
    SELECT p.retired_at INTO retired FROM grants.person p WHERE p.login = actor;
    IF NOT FOUND THEN
        PERFORM grants.refuse_unknown_person(actor);
    END IF;
    IF retired IS NOT NULL THEN
        PERFORM grants.refuse_unknown_person(actor, format('was retired on %s', retired::date));
    END IF;
    RETURN actor;
END
$$;
