-- Helpers of the reference data's API (Schema/api/reference.sql). The current definitions: re-applied when
-- they change.

-- `10 641 000 kr`, `1 000,50 EUR`: Money.swedish of GrantsCore (no-break spaces group the thousands).
CREATE OR REPLACE FUNCTION grants.money_swedish(minor bigint, currency text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN minor < 0 THEN '−' ELSE '' END
        || regexp_replace((abs(minor) / 100)::text, '([0-9])(?=([0-9]{3})+$)', E'\\1\u00A0', 'g')
        || CASE WHEN abs(minor) % 100 = 0 THEN '' ELSE ',' || lpad((abs(minor) % 100)::text, 2, '0') END
        || CASE WHEN currency = 'SEK' THEN E'\u00A0kr' ELSE E'\u00A0' || currency END
$$;

-- Refuses a write that differs from what is recorded (GR009), listing every difference: `differences` is a
-- JSON array of {field, recorded, given}; the first also stands at the top level for older readers.
CREATE OR REPLACE FUNCTION grants.refuse_differences(entity text, key text, differences jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF differences IS NULL OR jsonb_array_length(differences) = 0 THEN
        RETURN;
    END IF;
    RAISE EXCEPTION '% % is recorded otherwise: %', entity, key,
        (SELECT string_agg(format('%s %s ≠ %s', d->>'field', d->>'recorded', d->>'given'), '; ')
           FROM jsonb_array_elements(differences) d)
        USING ERRCODE = 'GR009',
              DETAIL = grants.rule_detail('conflict', entity, key, (differences->0) || jsonb_build_object('differences', differences));
END
$$;

-- An organisationsnummer in its stored form (NNNNNN-NNNN), from that form or ten digits; NULL if it is not one.
CREATE OR REPLACE FUNCTION grants.org_number_form(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN btrim(value) ~ '^[0-9]{6}-?[0-9]{4}$'
                THEN left(replace(btrim(value), '-', ''), 6) || '-' || right(replace(btrim(value), '-', ''), 4) END
$$;

-- An ORG argument: an organisationsnummer, or a name (compared in its normalised, case-folded form) that names
-- one organisation. GR007 when none, GR008 at `location` when the name names several.
CREATE OR REPLACE FUNCTION grants.resolve_organisation(p_key text, p_location text) RETURNS grants.organisation
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    number text := grants.org_number_form(p_key);
    v_org grants.organisation;
    key text;
    n int;
BEGIN
    IF number IS NOT NULL AND grants.org_number_valid(number) THEN
        SELECT * INTO v_org FROM grants.organisation o WHERE o.org_number = number;
        IF NOT FOUND THEN
            PERFORM grants.refuse_not_found('organisation', p_key);
        END IF;
        RETURN v_org;
    END IF;
    BEGIN
        key := lower(grants.organisation_name(p_key));
    EXCEPTION WHEN SQLSTATE 'GR008' THEN
        PERFORM grants.refuse_not_found('organisation', coalesce(p_key, ''));
    END;
    SELECT count(*) INTO n FROM grants.organisation o WHERE lower(o.name) = key;
    IF n = 0 THEN
        PERFORM grants.refuse_not_found('organisation', p_key);
    ELSIF n > 1 THEN
        PERFORM grants.refuse_input('organisation', p_key, p_location,
            format('"%s" names %s organisations; use the organisationsnummer', p_key, n));
    END IF;
    SELECT * INTO v_org FROM grants.organisation o WHERE lower(o.name) = key;
    RETURN v_org;
END
$$;

-- A round as the API returns it: with its programme's name and its number of grants. (A SQL function: called
-- from a grants_api function's RETURN QUERY it sees what that function wrote.)
CREATE OR REPLACE FUNCTION grants.round_row(p_id bigint)
RETURNS TABLE (id bigint, programme text, name text, currency text, budget bigint, awarded_total bigint, opens_on date,
               closes_on date, decided_on date, status text, grant_count bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.id, p.name, r.name, r.currency, r.budget, r.awarded_total, r.opens_on, r.closes_on, r.decided_on, r.status,
           (SELECT count(*) FROM grants.grant g WHERE g.round_id = r.id)
      FROM grants.allocation_round r JOIN grants.programme p ON p.id = r.programme_id
     WHERE r.id = p_id
$$;

-- A programme with its settings (nulls while none are stored), as grants_api.set_programme_settings returns it.
CREATE OR REPLACE FUNCTION grants.programme_row(p_id bigint)
RETURNS TABLE (programme text, currency text, sie_cost_account text, sie_bank_account text, sie_liability_account text,
               sie_series text, accrual boolean, iati_publisher_ref text, iati_publisher_name text, iati_publisher_type text,
               funder_ref text, funder_name text, giving360_prefix text, default_sector text, flow_type text, finance_type text,
               aid_type text, collaboration_type text, sie_receivable_account text, funder_activity_id text,
               funder_type text, debtor_name text, debtor_iban text, debtor_bic text, debtor_bankgiro text,
               updated_by text, updated_at timestamptz)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT p.name, p.currency, s.sie_cost_account, s.sie_bank_account, s.sie_liability_account, s.sie_series, s.accrual,
           s.iati_publisher_ref, s.iati_publisher_name, s.iati_publisher_type, s.funder_ref, s.funder_name, s.giving360_prefix,
           s.default_sector, s.flow_type, s.finance_type, s.aid_type, s.collaboration_type, s.sie_receivable_account,
           s.funder_activity_id, s.funder_type, s.debtor_name, s.debtor_iban, s.debtor_bic, s.debtor_bankgiro,
           s.updated_by, s.updated_at
      FROM grants.programme p LEFT JOIN grants.programme_settings s ON s.programme_id = p.id
     WHERE p.id = p_id
$$;
