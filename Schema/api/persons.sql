-- The person register's API: who may act (DESIGN: people are registered, not typed).
-- Only a service login or the owner registers and retires people (grants_staff cannot add a colleague, nor
-- itself). The first person of an empty register is added by the login alone (no actor can exist yet).

CREATE OR REPLACE FUNCTION grants_api.person_add(p_login text, p_name text, p_actor text DEFAULT NULL)
RETURNS SETOF grants.person
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text;
    v_login text := grants.actor_name(p_login);
    existing grants.person;
BEGIN
    PERFORM grants.check_no_control('person', p_login, 'name', p_name);
    IF grants.login_actor() IS NOT NULL THEN
        RAISE EXCEPTION 'only a service login or the owner registers people'
            USING ERRCODE = '42501', HINT = 'ask whoever administers grants_service or the owner login';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM grants.person) THEN
        actor := NULL;  -- the first person: registered by the owner's or service's login itself (added_login)
    ELSE
        actor := grants.acting_person(p_actor);
    END IF;
    IF v_login IS NULL OR v_login = '' THEN
        PERFORM grants.refuse_input('person', coalesce(p_login, ''), 'login', 'must not be empty');
    END IF;
    -- Control, invisible and bidirectional characters would let one login pass for another.
    IF v_login ~ '[\x00-\x1F\x7F-\x9F\u00AD\u115F\u1160\u180E\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]' THEN
        PERFORM grants.refuse_input('person', v_login, 'login', 'must not contain control, invisible or bidirectional characters');
    END IF;
    -- Mixed scripts (Latin with a Cyrillic or Greek look-alike) and compatibility forms (fullwidth letters,
    -- ligatures) are refused by the same rule that keeps organisations' names apart (grants.organisation_name).
    BEGIN
        IF lower(grants.organisation_name(v_login)) IS DISTINCT FROM v_login THEN
            PERFORM grants.refuse_input('person', v_login, 'login', 'compatibility form');
        END IF;
    EXCEPTION WHEN SQLSTATE 'GR008' THEN
        PERFORM grants.refuse_input('person', v_login, 'login',
            'must be written in one script, without look-alike letters, compatibility forms or invisible characters');
    END;
    IF length(v_login) > 200 THEN
        PERFORM grants.refuse_input('person', left(v_login, 40), 'login', 'must be at most 200 characters');
    END IF;
    IF p_name IS NULL OR btrim(p_name) = '' THEN
        PERFORM grants.refuse_input('person', v_login, 'name', 'must not be empty');
    END IF;
    SELECT * INTO existing FROM grants.person WHERE person.login = v_login FOR UPDATE;
    IF FOUND THEN
        IF existing.name = btrim(p_name) AND existing.retired_at IS NULL THEN
            RETURN NEXT existing;  -- a retry
            RETURN;
        END IF;
        RAISE EXCEPTION 'person % is already registered', existing.login
            USING ERRCODE = 'GR009',
                  DETAIL = grants.rule_detail('conflict', 'person', existing.login,
                      jsonb_build_object('field', CASE WHEN existing.retired_at IS NOT NULL THEN 'retired' ELSE 'name' END,
                                         'recorded', CASE WHEN existing.retired_at IS NOT NULL THEN existing.retired_at::date::text ELSE existing.name END,
                                         'given', btrim(p_name)));
    END IF;
    RETURN QUERY INSERT INTO grants.person (login, name, added_by) VALUES (v_login, btrim(p_name), actor)
        RETURNING *;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (coalesce(actor, v_login), 'person.added', 'person', v_login,
            jsonb_build_object('name', btrim(p_name), 'login', session_user::text));
END
$$;

CREATE OR REPLACE FUNCTION grants_api.person_retire(p_login text, p_actor text DEFAULT NULL)
RETURNS SETOF grants.person
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text;
    existing grants.person;
BEGIN
    IF grants.login_actor() IS NOT NULL THEN
        RAISE EXCEPTION 'only a service login or the owner retires people'
            USING ERRCODE = '42501', HINT = 'ask whoever administers grants_service or the owner login';
    END IF;
    actor := grants.acting_person(p_actor);
    SELECT * INTO existing FROM grants.person WHERE login = grants.actor_name(p_login) FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM grants.refuse_not_found('person', coalesce(p_login, ''));
    END IF;
    IF existing.retired_at IS NOT NULL THEN
        RETURN NEXT existing;  -- a retry
        RETURN;
    END IF;
    RETURN QUERY UPDATE grants.person SET retired_at = now(), retired_by = actor WHERE id = existing.id RETURNING *;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'person.retired', 'person', existing.login, '{}');
END
$$;
