-- Organisations have one identity (DESIGN §4). A name is normalised (Unicode NFKC, white space of any width
-- one plain space, trimmed) and refused when it could pass for another: control, invisible and bidirectional
-- characters, and Latin, Cyrillic and Greek letters mixed in one name (`Kisumu Сounty` with a Cyrillic С).
-- Within a country a name is unique in its case-folded normalised form: lower(name) of the stored name.
--
-- grants.organisation_name is versioned here, not in Schema/rules: the table's CHECK and unique index depend on
-- it, and a changed definition would need the table checked and the index rebuilt. GrantsCore's
-- OrganisationName mirrors it exactly (OrganisationNameTests compares the two on a table of tricky names).
--
-- Rows recorded before this migration: a name the rules accept is stored in its normalised form; a name they
-- refuse, or one whose normalised form another (older) row of the country already has, is kept as it was and
-- marked legacy_name, outside the unique index (its history refers to it by id). No new row can be legacy.

CREATE FUNCTION grants.organisation_name(name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v text := normalize(name, NFKC);
    bad text;
    scripts text[] := '{}';
BEGIN
    -- Controls (tab and line breaks too), format characters (zero-width space, joiners, bidirectional controls,
    -- soft hyphen, BOM), default-ignorable fillers and variation selectors, private use, noncharacters, tags.
    bad := substring(v from '[\u0001-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2028-\u202E\u2060-\u206F\u2800\u3164\uE000-\uF8FF\uFDD0-\uFDEF\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFFB\uFFFE\uFFFF\U000E0000-\U000E0FFF\U000F0000-\U0010FFFF]');
    IF bad IS NOT NULL THEN
        PERFORM grants.refuse_input('organisation', left(name, 80), 'name',
            format('holds an invisible or control character (U+%s)', lpad(upper(to_hex(ascii(bad))), 4, '0')));
    END IF;
    v := btrim(regexp_replace(v, '[\u0020\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]+', ' ', 'g'), ' ');
    IF v = '' THEN
        PERFORM grants.refuse_input('organisation', name, 'name', 'must not be empty');
    END IF;
    IF length(v) > 1000 THEN
        PERFORM grants.refuse_input('organisation', left(v, 80), 'name', 'must be at most 1000 characters');
    END IF;
    IF strpos(v, '|') > 0 THEN
        PERFORM grants.refuse_input('organisation', left(v, 80), 'name', 'cannot hold ''|'': exports join several names with it');
    END IF;
    IF v ~ '[\u0400-\u052F\u1C80-\u1C8F\u2DE0-\u2DFF\uA640-\uA69F]' THEN scripts := scripts || 'Cyrillic'::text; END IF;
    IF v ~ '[\u0370-\u03FF\u1F00-\u1FFF]' THEN scripts := scripts || 'Greek'::text; END IF;
    IF v ~ '[A-Za-z\u00AA\u00BA\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02AF\u1D00-\u1D25\u1E00-\u1EFF\u2C60-\u2C7F\uA720-\uA7FF\uAB30-\uAB5A]' THEN
        scripts := scripts || 'Latin'::text;
    END IF;
    IF cardinality(scripts) > 1 THEN
        PERFORM grants.refuse_input('organisation', left(v, 80), 'name',
            format('mixes %s letters, as look-alike names do', array_to_string(scripts, ' and ')));
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION grants.organisation_name(text) IS
    'An organisation''s name in its one form (NFKC, one space, trimmed), or GR008 at location name; key: lower() of it.';

ALTER TABLE grants.organisation ADD COLUMN legacy_name boolean NOT NULL DEFAULT false;
DROP INDEX grants.organisation_name_country;

DO $$
DECLARE
    o record;
    normalised text;
    last_id bigint;
BEGIN
    FOR o IN SELECT id, name, country FROM grants.organisation ORDER BY id LOOP
        BEGIN
            normalised := grants.organisation_name(o.name);
        EXCEPTION WHEN SQLSTATE 'GR008' THEN
            normalised := NULL;
        END;
        IF normalised IS NULL OR EXISTS (
            SELECT 1 FROM grants.organisation x
             WHERE x.id < o.id AND NOT x.legacy_name AND x.country = o.country AND lower(x.name) = lower(normalised))
        THEN
            UPDATE grants.organisation SET legacy_name = true WHERE id = o.id;
            RAISE NOTICE 'organisation % (%, %): kept as a legacy name', o.id, o.name, o.country;
        ELSIF normalised <> o.name THEN
            UPDATE grants.organisation SET name = normalised WHERE id = o.id;
        END IF;
    END LOOP;
    SELECT coalesce(max(id), 0) INTO last_id FROM grants.organisation;
    EXECUTE format('ALTER TABLE grants.organisation ADD CONSTRAINT organisation_legacy_names_before_0023 '
                   'CHECK (NOT legacy_name OR id <= %s)', last_id);
END
$$;

ALTER TABLE grants.organisation ADD CONSTRAINT organisation_name_normalised
    CHECK (legacy_name OR name = grants.organisation_name(name));
-- One organisation per normalised, case-folded name and country (the legacy rows stand aside).
CREATE UNIQUE INDEX organisation_name_country ON grants.organisation (lower(name), country) WHERE NOT legacy_name;
