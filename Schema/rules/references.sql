-- References and links that never move to another parent, and an application's partners and themes written
-- with it. The current definitions.

-- Parents are never deleted and keep their keys.
CREATE OR REPLACE FUNCTION grants.refuse_parent_change() RETURNS trigger
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

-- A row keeps the parents it was written with (where no guard of 0008/0009 keeps them already).
CREATE OR REPLACE FUNCTION grants.refuse_reference_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows keep the rows they refer to: UPDATE of % refused', TG_TABLE_NAME, TG_ARGV[0]
        USING ERRCODE = 'GR001', TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA,
              DETAIL = grants.rule_detail('append_only', TG_TABLE_NAME, NULL);
END
$$;

-- The application was inserted in this transaction exactly when its submitted_at is this transaction's now().
CREATE OR REPLACE FUNCTION grants.links_with_their_application() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    late text;
BEGIN
    SELECT a.reference INTO late FROM new_rows n JOIN grants.application a ON a.id = n.application_id
     WHERE a.submitted_at <> now() LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'application %: partners and themes are given when it is submitted, never added later', late
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'application', late);
    END IF;
    RETURN NULL;
END
$$;
