-- The library's text rule (Limits.controlCharacterProblem), for the API functions: a text a person gives (names,
-- titles, reasons, references of payments and decisions, programme settings) holds no control character. C0
-- controls (tab, line feed, carriage return, escape …), DEL, C1 controls, the line and paragraph separators, and
-- the bidirectional embeddings, overrides and isolates make a name print as something else in a terminal or a
-- spreadsheet. The Swift check words its refusal the same way; these catch a staff login calling grants_api by hand.

-- The problem with `value` ("holds a control character U+001B (escape); remove it"), or NULL when it has none.
CREATE OR REPLACE FUNCTION grants.control_character_problem(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT format('holds a control character U+%s%s; remove it', lpad(upper(to_hex(c)), 4, '0'),
                  CASE c WHEN 9 THEN ' (tab)' WHEN 10 THEN ' (line feed)' WHEN 13 THEN ' (carriage return)'
                         WHEN 27 THEN ' (escape)' WHEN 127 THEN ' (delete)' WHEN 8232 THEN ' (line separator)'
                         WHEN 8233 THEN ' (paragraph separator)' WHEN 8234 THEN ' (bidi embedding)'
                         WHEN 8235 THEN ' (bidi embedding)' WHEN 8236 THEN ' (bidi pop)' WHEN 8237 THEN ' (bidi override)'
                         WHEN 8238 THEN ' (bidi override)' WHEN 8294 THEN ' (bidi isolate)' WHEN 8295 THEN ' (bidi isolate)'
                         WHEN 8296 THEN ' (bidi isolate)' WHEN 8297 THEN ' (bidi pop isolate)' ELSE '' END)
      FROM (SELECT ascii(substring(value FROM '[\x01-\x1F\x7F-\x9F\u2028-\u202E\u2066-\u2069]')) AS c) found
     WHERE c IS NOT NULL
$$;

-- Refuses a text that holds a control character: invalid input (GR008) at `location`. NULL passes (a required
-- text is grants.check_text's, which also calls this). The pattern is grants.control_character_problem's, tested
-- here first: a clean text (nearly every one) costs one match against a compiled pattern the backend keeps, not
-- the parse and plan of that SQL function, which a call from PL/pgSQL pays every time.
CREATE OR REPLACE FUNCTION grants.check_no_control(entity text, key text, location text, value text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    problem text;
BEGIN
    IF value IS NULL OR value !~ '[\x01-\x1F\x7F-\x9F\u2028-\u202E\u2066-\u2069]' THEN
        RETURN;
    END IF;
    problem := grants.control_character_problem(value);
    IF problem IS NOT NULL THEN
        PERFORM grants.refuse_input(entity, coalesce(key, ''), location, problem);
    END IF;
END
$$;

-- The same for every element of an array (the bulk record functions): the first refused element is named by its
-- index (`titles[3]`).
CREATE OR REPLACE FUNCTION grants.check_no_controls(entity text, key text, location text, vals text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT v.value, v.n INTO bad FROM unnest(vals) WITH ORDINALITY AS v(value, n)
     WHERE v.value ~ '[\x01-\x1F\x7F-\x9F\u2028-\u202E\u2066-\u2069]' ORDER BY v.n LIMIT 1;
    IF FOUND THEN
        PERFORM grants.check_no_control(entity, key, format('%s[%s]', location, bad.n - 1), bad.value);
    END IF;
END
$$;
