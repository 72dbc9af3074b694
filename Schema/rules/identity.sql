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
