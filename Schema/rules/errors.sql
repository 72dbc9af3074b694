-- Raising the library's own SQLSTATEs with a structured DETAIL (grants.rule_detail): not found (GR007),
-- refused input (GR008), an ambiguous reference. The current definitions.

-- A reference used in several programmes must be given with its programme.
CREATE OR REPLACE FUNCTION grants.refuse_ambiguous(entity text, key text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM grants.refuse_input(entity, key, 'programme',
                                format('reference %s is used in several programmes; name the programme', key));
END
$$;

CREATE OR REPLACE FUNCTION grants.refuse_input(entity text, key text, location text, message text, extra jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: %', location, message
        USING ERRCODE = 'GR008',
              DETAIL = grants.rule_detail(coalesce(extra->>'rule', 'invalid_input'), entity, key,
                                          jsonb_build_object('location', location, 'message', message) || (extra - 'rule'));
END
$$;

CREATE OR REPLACE FUNCTION grants.refuse_not_found(entity text, key text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'no % %', entity, key
        USING ERRCODE = 'GR007', DETAIL = grants.rule_detail('not_found', entity, key);
END
$$;
