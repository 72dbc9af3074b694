-- Reference data and declarations: themes, organisations, rounds (create, close), programme settings,
-- conflicts of interest, contacts. One function per operation (the pattern: Schema/api/persons.sql): who acts
-- first (grants.acting_person), then the rules, the write, its audit event, and the row. Adding the same thing
-- again changes nothing and returns what is recorded; something else under the same key is GR009 listing every
-- difference.

CREATE OR REPLACE FUNCTION grants_api.add_theme(p_code text, p_name_sv text, p_name_en text, p_dac_sector text,
                                                p_actor text DEFAULT NULL)
RETURNS SETOF grants.theme
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    recorded grants.theme;
    differences jsonb := '[]';
BEGIN
    PERFORM grants.check_no_control('theme', p_code, 'name_sv', p_name_sv);
    PERFORM grants.check_no_control('theme', p_code, 'name_en', p_name_en);
    IF p_code IS NULL OR p_code !~ '^[a-z0-9][a-z0-9._-]{0,63}$' THEN
        PERFORM grants.refuse_input('theme', coalesce(p_code, ''), 'code',
            'must be 1 to 64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit');
    END IF;
    IF p_name_sv IS NULL OR btrim(p_name_sv) = '' OR length(p_name_sv) > 1000 THEN
        PERFORM grants.refuse_input('theme', p_code, 'name_sv', 'must be 1 to 1000 characters');
    END IF;
    IF p_name_en IS NULL OR btrim(p_name_en) = '' OR length(p_name_en) > 1000 THEN
        PERFORM grants.refuse_input('theme', p_code, 'name_en', 'must be 1 to 1000 characters');
    END IF;
    IF p_dac_sector IS NOT NULL AND p_dac_sector !~ '^[0-9]{5}$' THEN
        PERFORM grants.refuse_input('theme', p_code, 'dac_sector', 'must be a DAC 5-digit sector code');
    END IF;
    INSERT INTO grants.theme (code, name_sv, name_en, dac_sector) VALUES (p_code, p_name_sv, p_name_en, p_dac_sector)
    ON CONFLICT (code) DO NOTHING RETURNING * INTO recorded;
    IF FOUND THEN
        INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
        VALUES (actor, 'theme.added', 'theme', p_code, '{}');
        RETURN NEXT recorded;
        RETURN;
    END IF;
    SELECT * INTO recorded FROM grants.theme t WHERE t.code = p_code;
    IF recorded.name_sv IS DISTINCT FROM p_name_sv THEN
        differences := differences || jsonb_build_object('field', 'name_sv', 'recorded', recorded.name_sv, 'given', p_name_sv);
    END IF;
    IF recorded.name_en IS DISTINCT FROM p_name_en THEN
        differences := differences || jsonb_build_object('field', 'name_en', 'recorded', recorded.name_en, 'given', p_name_en);
    END IF;
    IF recorded.dac_sector IS DISTINCT FROM p_dac_sector THEN
        differences := differences || jsonb_build_object('field', 'dac_sector', 'recorded', coalesce(recorded.dac_sector, 'none'),
                                                         'given', coalesce(p_dac_sector, 'none'));
    END IF;
    PERFORM grants.refuse_differences('theme', p_code, differences);
    RETURN NEXT recorded;  -- a retry
END
$$;

-- Records an organisation, or returns the one recorded under its organisationsnummer or, without one, under its
-- normalised name in the country (grants.organisation_name). Another name or country for it is GR009.
CREATE OR REPLACE FUNCTION grants_api.add_organisation(p_name text, p_country text, p_org_number text,
                                                       p_municipality_code text, p_kind text, p_actor text DEFAULT NULL)
RETURNS SETOF grants.organisation
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    v_name text := grants.organisation_name(coalesce(p_name, ''));
    v_number text;
    v_kind text := coalesce(p_kind, 'other');
    recorded grants.organisation;
    attempt int := 0;
BEGIN
    IF p_country IS NULL OR p_country !~ '^[A-Z]{2}$' THEN
        PERFORM grants.refuse_input('organisation', v_name, 'country', 'must be an ISO 3166-1 alpha-2 country code');
    END IF;
    IF p_org_number IS NOT NULL THEN
        v_number := grants.org_number_form(p_org_number);
        IF v_number IS NULL OR NOT grants.org_number_valid(v_number) THEN
            PERFORM grants.refuse_input('organisation', v_name, 'org_number', format('%s is not an organisationsnummer', p_org_number));
        END IF;
        IF p_country <> 'SE' THEN
            PERFORM grants.refuse_input('organisation', v_name, 'org_number',
                'an organisationsnummer belongs to a Swedish organisation (country SE)');
        END IF;
    END IF;
    IF p_municipality_code IS NOT NULL AND p_municipality_code !~ '^[0-9]{2}([0-9]{2})?$' THEN
        PERFORM grants.refuse_input('organisation', v_name, 'municipality_code', 'must be a 4-digit kommunkod or a 2-digit länskod');
    END IF;
    IF v_kind NOT IN ('municipality', 'region', 'other') THEN
        PERFORM grants.refuse_input('organisation', v_name, 'kind', 'must be municipality, region or other');
    END IF;
    LOOP
        recorded := NULL;
        IF v_number IS NOT NULL THEN
            SELECT * INTO recorded FROM grants.organisation o WHERE o.org_number = v_number;
        END IF;
        IF recorded.id IS NULL THEN
            SELECT * INTO recorded FROM grants.organisation o
             WHERE lower(o.name) = lower(v_name) AND o.country = p_country AND NOT o.legacy_name;
        END IF;
        IF recorded.id IS NOT NULL THEN
            IF lower(recorded.name) <> lower(v_name) OR recorded.country <> p_country THEN
                PERFORM grants.refuse_differences('organisation', coalesce(v_number, v_name), jsonb_build_array(jsonb_build_object(
                    'field', 'name', 'recorded', format('%s (%s)', recorded.name, recorded.country),
                    'given', format('%s (%s)', v_name, p_country))));
            END IF;
            RETURN NEXT recorded;  -- the same organisation
            RETURN;
        END IF;
        BEGIN
            INSERT INTO grants.organisation (name, country, org_number, municipality_code, kind)
            VALUES (v_name, p_country, v_number, p_municipality_code, v_kind)
            RETURNING * INTO recorded;
            EXIT;
        EXCEPTION WHEN unique_violation THEN
            -- Recorded meanwhile by another transaction: look again (once).
            attempt := attempt + 1;
            IF attempt > 1 THEN
                RAISE;
            END IF;
        END;
    END LOOP;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'organisation.added', 'organisation', recorded.id::text,
            jsonb_build_object('name', recorded.name, 'country', recorded.country));
    RETURN NEXT recorded;
END
$$;

-- The programme's id, created (with this currency, audited) when it is new; GR009 when it has another currency.
CREATE OR REPLACE FUNCTION grants.programme_for(p_name text, p_currency text, p_actor text) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    id bigint;
    recorded text;
BEGIN
    INSERT INTO grants.programme (name, currency) VALUES (p_name, p_currency) ON CONFLICT (name) DO NOTHING
    RETURNING programme.id INTO id;
    IF FOUND THEN
        INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
        VALUES (p_actor, 'programme.created', 'programme', p_name, '{}');
        RETURN id;
    END IF;
    SELECT p.id, p.currency INTO id, recorded FROM grants.programme p WHERE p.name = p_name;
    IF recorded <> p_currency THEN
        PERFORM grants.refuse_differences('programme', p_name,
            jsonb_build_array(jsonb_build_object('field', 'currency', 'recorded', recorded, 'given', p_currency)));
    END IF;
    RETURN id;
END
$$;

-- Opens a round (and its programme, if new). The same round again changes nothing; another budget or date is
-- GR009 (a date left out is not a change).
CREATE OR REPLACE FUNCTION grants_api.create_round(p_programme text, p_name text, p_budget bigint, p_currency text,
                                                   p_opens_on date, p_closes_on date, p_decided_on date,
                                                   p_actor text DEFAULT NULL)
RETURNS TABLE (id bigint, programme text, name text, currency text, budget bigint, awarded_total bigint, opens_on date,
               closes_on date, decided_on date, status text, grant_count bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    actor text := grants.acting_person(p_actor);
    v_programme bigint;
    recorded grants.allocation_round;
    differences jsonb := '[]';
BEGIN
    PERFORM grants.check_no_control('round', p_name, 'programme', p_programme);
    PERFORM grants.check_no_control('round', p_name, 'name', p_name);
    IF p_programme IS NULL OR btrim(p_programme) = '' OR length(p_programme) > 1000 THEN
        PERFORM grants.refuse_input('round', coalesce(p_name, ''), 'programme', 'must be 1 to 1000 characters');
    END IF;
    IF p_name IS NULL OR btrim(p_name) = '' OR length(p_name) > 1000 THEN
        PERFORM grants.refuse_input('round', coalesce(p_name, ''), 'name', 'must be 1 to 1000 characters');
    END IF;
    IF p_budget IS NULL OR p_budget <= 0 THEN
        PERFORM grants.refuse_input('round', p_name, 'budget', 'must be positive');
    END IF;
    IF p_currency IS NULL OR p_currency !~ '^[A-Z]{3}$' THEN
        PERFORM grants.refuse_input('round', p_name, 'currency', 'must be an ISO 4217 currency code');
    END IF;
    IF p_opens_on IS NOT NULL AND p_closes_on IS NOT NULL AND p_closes_on < p_opens_on THEN
        PERFORM grants.refuse_input('round', p_name, 'closes_on', 'must not be before opens_on');
    END IF;
    v_programme := grants.programme_for(p_programme, p_currency, actor);
    INSERT INTO grants.allocation_round (programme_id, name, budget, currency, opens_on, closes_on, decided_on)
    VALUES (v_programme, p_name, p_budget, p_currency, p_opens_on, p_closes_on, p_decided_on)
    ON CONFLICT (programme_id, name) DO NOTHING RETURNING * INTO recorded;
    IF FOUND THEN
        INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
        VALUES (actor, 'round.created', 'round', p_name,
                jsonb_build_object('programme', p_programme,
                                   'budget', (p_budget / 100)::text || '.' || lpad((abs(p_budget) % 100)::text, 2, '0')));
        RETURN QUERY SELECT * FROM grants.round_row(recorded.id);
        RETURN;
    END IF;
    SELECT * INTO recorded FROM grants.allocation_round r WHERE r.programme_id = v_programme AND r.name = p_name;
    IF recorded.budget <> p_budget OR recorded.currency <> p_currency THEN
        differences := differences || jsonb_build_object('field', 'budget',
            'recorded', grants.money_swedish(recorded.budget, recorded.currency), 'given', grants.money_swedish(p_budget, p_currency));
    END IF;
    IF p_opens_on IS NOT NULL AND recorded.opens_on IS DISTINCT FROM p_opens_on THEN
        differences := differences || jsonb_build_object('field', 'opens_on', 'recorded', coalesce(recorded.opens_on::text, 'none'),
                                                         'given', p_opens_on::text);
    END IF;
    IF p_closes_on IS NOT NULL AND recorded.closes_on IS DISTINCT FROM p_closes_on THEN
        differences := differences || jsonb_build_object('field', 'closes_on', 'recorded', coalesce(recorded.closes_on::text, 'none'),
                                                         'given', p_closes_on::text);
    END IF;
    IF p_decided_on IS NOT NULL AND recorded.decided_on IS DISTINCT FROM p_decided_on THEN
        differences := differences || jsonb_build_object('field', 'decided_on', 'recorded', coalesce(recorded.decided_on::text, 'none'),
                                                         'given', p_decided_on::text);
    END IF;
    PERFORM grants.refuse_differences('round', p_name, differences);
    RETURN QUERY SELECT * FROM grants.round_row(recorded.id);  -- a retry
END
$$;

-- Closes a round: no more awards. Closing a closed round is an invalid state change (GR002).
CREATE OR REPLACE FUNCTION grants_api.close_round(p_name text, p_programme text, p_actor text DEFAULT NULL)
RETURNS TABLE (id bigint, programme text, name text, currency text, budget bigint, awarded_total bigint, opens_on date,
               closes_on date, decided_on date, status text, grant_count bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    actor text := grants.acting_person(p_actor);
    recorded grants.allocation_round;
    programmes text;
    n int;
BEGIN
    SELECT count(*), string_agg(p.name, ', ' ORDER BY r.id) INTO n, programmes
      FROM grants.allocation_round r JOIN grants.programme p ON p.id = r.programme_id
     WHERE r.name = p_name AND (p_programme IS NULL OR p.name = p_programme);
    IF n = 0 THEN
        PERFORM grants.refuse_not_found('round', CASE WHEN p_programme IS NULL THEN coalesce(p_name, '')
                                                      ELSE format('%s in %s', p_name, p_programme) END);
    ELSIF n > 1 THEN
        PERFORM grants.refuse_input('round', p_name, 'programme', format('round %s exists in %s; name the programme', p_name, programmes));
    END IF;
    SELECT r.* INTO recorded FROM grants.allocation_round r JOIN grants.programme p ON p.id = r.programme_id
     WHERE r.name = p_name AND (p_programme IS NULL OR p.name = p_programme)
       FOR UPDATE OF r;
    IF recorded.status <> 'open' THEN
        RAISE EXCEPTION 'round % cannot go from % to closed', p_name, recorded.status
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'round', p_name,
                                              jsonb_build_object('from', recorded.status, 'to', 'closed'));
    END IF;
    UPDATE grants.allocation_round SET status = 'closed', closed_at = now() WHERE id = recorded.id RETURNING * INTO recorded;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'round.closed', 'round', recorded.name, '{}');
    RETURN QUERY SELECT * FROM grants.round_row(recorded.id);
END
$$;

-- Sets the programme settings `p_settings` names (a JSON object: sie_cost_account … collaboration_type as
-- strings, accrual as a boolean; a key left out stays as it was, a key given as null is cleared). A programme
-- that does not exist yet is created (SEK). Stamps who changed them and audits what changed (old → new);
-- setting what is already set changes nothing and records nothing. Returns the settings row (the stored one,
-- or one of nulls while none are stored).
CREATE OR REPLACE FUNCTION grants_api.set_programme_settings(p_programme text, p_settings jsonb, p_actor text DEFAULT NULL)
RETURNS TABLE (programme text, currency text, sie_cost_account text, sie_bank_account text, sie_liability_account text,
               sie_series text, accrual boolean, iati_publisher_ref text, iati_publisher_name text, iati_publisher_type text,
               funder_ref text, funder_name text, giving360_prefix text, default_sector text, flow_type text, finance_type text,
               aid_type text, collaboration_type text, sie_receivable_account text, funder_activity_id text,
               funder_type text, updated_by text, updated_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    actor text := grants.acting_person(p_actor);
    v_programme bigint;
    stored grants.programme_settings;
    merged grants.programme_settings;
    field text;
    fields constant text[] := ARRAY['sie_cost_account', 'sie_bank_account', 'sie_liability_account', 'sie_series',
        'iati_publisher_ref', 'iati_publisher_name', 'iati_publisher_type', 'funder_ref', 'funder_name', 'giving360_prefix',
        'default_sector', 'flow_type', 'finance_type', 'aid_type', 'collaboration_type', 'sie_receivable_account',
        'funder_activity_id', 'funder_type'];
    old_json jsonb;
    new_json jsonb;
    details jsonb := '{}';
    unknown text;
BEGIN
    PERFORM grants.check_no_control('programme', p_programme, 'programme', p_programme);
    PERFORM grants.check_no_control('programme', p_programme, s.key, s.value)
       FROM jsonb_each_text(CASE WHEN jsonb_typeof(p_settings) = 'object' THEN p_settings ELSE '{}' END) AS s;
    IF p_programme IS NULL OR btrim(p_programme) = '' OR length(p_programme) > 1000 THEN
        PERFORM grants.refuse_input('programme', coalesce(p_programme, ''), 'programme', 'must be 1 to 1000 characters');
    END IF;
    IF p_settings IS NULL OR jsonb_typeof(p_settings) <> 'object' THEN
        PERFORM grants.refuse_input('programme', p_programme, 'settings', 'must be a JSON object of settings');
    END IF;
    SELECT k INTO unknown FROM jsonb_object_keys(p_settings) k WHERE k <> ALL (fields || 'accrual'::text) LIMIT 1;
    IF unknown IS NOT NULL THEN
        PERFORM grants.refuse_input('programme', p_programme, unknown, 'is not a programme setting');
    END IF;
    FOREACH field IN ARRAY fields LOOP
        IF p_settings ? field AND jsonb_typeof(p_settings->field) NOT IN ('string', 'null') THEN
            PERFORM grants.refuse_input('programme', p_programme, field, 'must be a string');
        END IF;
    END LOOP;
    IF p_settings ? 'accrual' AND jsonb_typeof(p_settings->'accrual') NOT IN ('boolean', 'null') THEN
        PERFORM grants.refuse_input('programme', p_programme, 'accrual', 'must be true or false');
    END IF;
    SELECT p.id INTO v_programme FROM grants.programme p WHERE p.name = p_programme FOR UPDATE;
    IF NOT FOUND THEN
        v_programme := grants.programme_for(p_programme, 'SEK', actor);
        PERFORM 1 FROM grants.programme p WHERE p.id = v_programme FOR UPDATE;
    END IF;
    SELECT * INTO stored FROM grants.programme_settings s WHERE s.programme_id = v_programme;
    stored.programme_id := v_programme;
    old_json := to_jsonb(stored);
    new_json := old_json || (p_settings - 'accrual');
    IF p_settings ? 'accrual' THEN
        new_json := new_json || jsonb_build_object('accrual', p_settings->'accrual');
    END IF;
    merged := jsonb_populate_record(stored, new_json);
    -- An SE-ON- identifier carries an organisationsnummer, and an organisation type is one of IATI's codes: checked
    -- for the values this call sets (one stored before these checks stays until it is changed).
    FOREACH field IN ARRAY ARRAY['iati_publisher_ref', 'funder_ref'] LOOP
        IF p_settings ? field AND NOT grants.org_id_number_valid(p_settings->>field) THEN
            PERFORM grants.refuse_input('programme', p_programme, field,
                format('"%s" is not an organisation identifier: SE-ON- must be followed by a valid organisationsnummer '
                       '(10 digits, digits 3-4 at least 20, Luhn check digit)', left(p_settings->>field, 40)));
        END IF;
    END LOOP;
    FOREACH field IN ARRAY ARRAY['iati_publisher_type', 'funder_type'] LOOP
        IF p_settings ? field AND p_settings->>field IS NOT NULL AND NOT grants.iati_organisation_type(p_settings->>field) THEN
            PERFORM grants.refuse_input('programme', p_programme, field,
                format('"%s" is not an IATI OrganisationType code', left(p_settings->>field, 40)));
        END IF;
    END LOOP;
    -- Checked as a whole: the publisher and the funder may come in separate calls.
    IF merged.iati_publisher_ref IS NOT NULL AND merged.iati_publisher_ref = merged.funder_ref THEN
        PERFORM grants.refuse_input('programme', p_programme, 'iati_publisher_ref',
            'is the funder''s identifier: a programme publishes under its own');
    END IF;
    FOREACH field IN ARRAY fields LOOP
        IF old_json->field IS DISTINCT FROM new_json->field THEN
            details := details || jsonb_build_object(field, format('%s → %s', coalesce(old_json->>field, '(not set)'),
                                                                               coalesce(new_json->>field, '(not set)')));
        END IF;
    END LOOP;
    IF stored.accrual IS DISTINCT FROM merged.accrual THEN
        details := details || jsonb_build_object('accrual', format('%s → %s',
            CASE stored.accrual WHEN true THEN 'on' WHEN false THEN 'off' ELSE '(not set)' END,
            CASE merged.accrual WHEN true THEN 'on' WHEN false THEN 'off' ELSE '(not set)' END));
    END IF;
    IF details = '{}' THEN
        RETURN QUERY SELECT * FROM grants.programme_row(v_programme);  -- nothing changes
        RETURN;
    END IF;
    INSERT INTO grants.programme_settings AS s (programme_id, sie_cost_account, sie_bank_account, sie_liability_account,
        sie_series, accrual, iati_publisher_ref, iati_publisher_name, iati_publisher_type, funder_ref, funder_name,
        giving360_prefix, default_sector, flow_type, finance_type, aid_type, collaboration_type, sie_receivable_account,
        funder_activity_id, funder_type, updated_by, updated_at)
    VALUES (v_programme, merged.sie_cost_account, merged.sie_bank_account, merged.sie_liability_account, merged.sie_series,
        merged.accrual, merged.iati_publisher_ref, merged.iati_publisher_name, merged.iati_publisher_type, merged.funder_ref,
        merged.funder_name, merged.giving360_prefix, merged.default_sector, merged.flow_type, merged.finance_type,
        merged.aid_type, merged.collaboration_type, merged.sie_receivable_account, merged.funder_activity_id,
        merged.funder_type, actor, now())
    ON CONFLICT (programme_id) DO UPDATE SET
        sie_cost_account = EXCLUDED.sie_cost_account, sie_bank_account = EXCLUDED.sie_bank_account,
        sie_liability_account = EXCLUDED.sie_liability_account, sie_series = EXCLUDED.sie_series,
        accrual = EXCLUDED.accrual, iati_publisher_ref = EXCLUDED.iati_publisher_ref,
        iati_publisher_name = EXCLUDED.iati_publisher_name, iati_publisher_type = EXCLUDED.iati_publisher_type,
        funder_ref = EXCLUDED.funder_ref, funder_name = EXCLUDED.funder_name,
        giving360_prefix = EXCLUDED.giving360_prefix, default_sector = EXCLUDED.default_sector,
        flow_type = EXCLUDED.flow_type, finance_type = EXCLUDED.finance_type, aid_type = EXCLUDED.aid_type,
        collaboration_type = EXCLUDED.collaboration_type, sie_receivable_account = EXCLUDED.sie_receivable_account,
        funder_activity_id = EXCLUDED.funder_activity_id, funder_type = EXCLUDED.funder_type, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at
    ;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'programme.settings_changed', 'programme', p_programme, details);
    RETURN QUERY SELECT * FROM grants.programme_row(v_programme);
END
$$;

-- Declares that a registered person has a conflict of interest with an organisation (an organisationsnummer or a
-- name). The person is named by login, resolved to the register (GR010 when nobody is registered so); the
-- organisation to its id. The same declaration again changes nothing; another reason is GR009.
CREATE OR REPLACE FUNCTION grants_api.declare_conflict(p_person text, p_organisation text, p_reason text,
                                                       p_actor text DEFAULT NULL)
RETURNS SETOF grants.conflict_of_interest
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    v_person text := grants.actor_name(coalesce(p_person, ''));
    target grants.organisation;
    recorded grants.conflict_of_interest;
BEGIN
    PERFORM grants.check_no_control('conflict', p_person, 'reason', p_reason);
    IF v_person = '' THEN
        PERFORM grants.refuse_input('conflict of interest', '', 'person', 'must not be empty');
    END IF;
    IF p_reason IS NULL OR btrim(p_reason) = '' OR length(p_reason) > 1000 THEN
        PERFORM grants.refuse_input('conflict of interest', v_person, 'reason', 'must be 1 to 1000 characters');
    END IF;
    PERFORM 1 FROM grants.person x WHERE x.login = v_person;
    IF NOT FOUND THEN
        PERFORM grants.refuse_unknown_person(v_person);
    END IF;
    target := grants.resolve_organisation(p_organisation, 'organisation');
    INSERT INTO grants.conflict_of_interest (person, organisation_id, reason, declared_by)
    VALUES (v_person, target.id, p_reason, actor)
    ON CONFLICT (person, organisation_id) DO NOTHING RETURNING * INTO recorded;
    IF FOUND THEN
        INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
        VALUES (actor, 'conflict.declared', 'conflict', recorded.id::text,
                jsonb_build_object('person', v_person, 'organisation', target.name, 'reason', p_reason));
        RETURN NEXT recorded;
        RETURN;
    END IF;
    SELECT * INTO recorded FROM grants.conflict_of_interest c WHERE c.person = v_person AND c.organisation_id = target.id;
    IF recorded.reason <> p_reason THEN
        PERFORM grants.refuse_differences('conflict of interest', format('%s, %s', v_person, target.name),
            jsonb_build_array(jsonb_build_object('field', 'reason', 'recorded', recorded.reason, 'given', p_reason)));
    END IF;
    RETURN NEXT recorded;  -- a retry
END
$$;

-- Records a contact at an organisation (an organisationsnummer or a name). The same person (name, e-mail, phone
-- and role alike) again is a retry. The audit event names the contact by id only: it could never be erased.
CREATE OR REPLACE FUNCTION grants_api.add_contact(p_organisation text, p_name text, p_email text, p_phone text, p_role text,
                                                  p_actor text DEFAULT NULL)
RETURNS SETOF grants.contact
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    target grants.organisation;
    recorded grants.contact;
BEGIN
    PERFORM grants.check_no_control('contact', p_organisation, 'name', p_name);
    PERFORM grants.check_no_control('contact', p_organisation, 'email', p_email);
    PERFORM grants.check_no_control('contact', p_organisation, 'phone', p_phone);
    PERFORM grants.check_no_control('contact', p_organisation, 'role', p_role);
    IF p_name IS NULL OR btrim(p_name) = '' OR length(p_name) > 1000 THEN
        PERFORM grants.refuse_input('contact', '', 'name', 'must be 1 to 1000 characters');
    END IF;
    IF p_role IS NOT NULL AND length(p_role) > 1000 THEN
        PERFORM grants.refuse_input('contact', '', 'role', 'must be at most 1000 characters');
    END IF;
    IF p_email IS NOT NULL AND (length(p_email) > 320 OR p_email !~ '^[^@[:space:]]+@[^@[:space:]]+$') THEN
        PERFORM grants.refuse_input('contact', '', 'email', 'is not an e-mail address (name@domain)');
    END IF;
    IF p_phone IS NOT NULL AND (length(p_phone) > 64 OR p_phone !~ '^[0-9 +()-]+$' OR p_phone !~ '[0-9]') THEN
        PERFORM grants.refuse_input('contact', '', 'phone', 'is not a phone number (digits, spaces, + - ( ))');
    END IF;
    target := grants.resolve_organisation(p_organisation, 'organisation');
    -- One contact at a time per organisation: two equal requests at once record one contact.
    PERFORM 1 FROM grants.organisation o WHERE o.id = target.id FOR UPDATE;
    SELECT * INTO recorded FROM grants.contact c
     WHERE c.organisation_id = target.id AND c.name = p_name AND c.email IS NOT DISTINCT FROM p_email
       AND c.phone IS NOT DISTINCT FROM p_phone AND c.role IS NOT DISTINCT FROM p_role
     ORDER BY c.id LIMIT 1;
    IF FOUND THEN
        RETURN NEXT recorded;  -- a retry
        RETURN;
    END IF;
    INSERT INTO grants.contact (organisation_id, name, email, phone, role, added_by)
    VALUES (target.id, p_name, p_email, p_phone, p_role, actor) RETURNING * INTO recorded;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'contact.added', 'contact', recorded.id::text, jsonb_build_object('organisation', target.id::text));
    RETURN NEXT recorded;
END
$$;

-- Erases a contact: name, e-mail and phone go; the row stays as a tombstone with who erased it, when and why.
-- Erasing an erased contact again changes nothing.
CREATE OR REPLACE FUNCTION grants_api.erase_contact(p_id bigint, p_reason text, p_actor text DEFAULT NULL)
RETURNS SETOF grants.contact
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    recorded grants.contact;
BEGIN
    PERFORM grants.check_no_control('contact', p_id::text, 'reason', p_reason);
    IF p_reason IS NULL OR btrim(p_reason) = '' OR length(p_reason) > 1000 THEN
        PERFORM grants.refuse_input('contact', coalesce(p_id::text, ''), 'reason', 'must be 1 to 1000 characters');
    END IF;
    SELECT * INTO recorded FROM grants.contact c WHERE c.id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM grants.refuse_not_found('contact', coalesce(p_id::text, ''));
    END IF;
    IF recorded.erased_at IS NOT NULL THEN
        RETURN NEXT recorded;  -- erased already
        RETURN;
    END IF;
    UPDATE grants.contact SET name = NULL, email = NULL, phone = NULL, erased_at = now(), erased_by = actor,
                              erasure_reason = p_reason
     WHERE id = p_id RETURNING * INTO recorded;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'contact.erased', 'contact', p_id::text, jsonb_build_object('reason', p_reason));
    RETURN NEXT recorded;
END
$$;
