-- Amounts as text where the database writes them itself (audit details, messages).

-- An amount in minor units as the library's Money.plain writes it in audit details: `1234.50`, `-7.05`.
-- (A product with 0.01 is exact and keeps two decimals.) One strict expression, so the planner inlines it into
-- the statement that calls it (an audit insert) instead of parsing and planning it on every call.
CREATE OR REPLACE FUNCTION grants.plain_amount(minor bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (minor::numeric * 0.01)::text
$$;

-- An amount as the library's Money.swedish shows it to people: `1 000 000 kr`, `1 000,50 EUR` (no-break spaces,
-- U+2212 for a minus).
CREATE OR REPLACE FUNCTION grants.swedish_amount(minor bigint, currency text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN minor < 0 THEN U&'\2212' ELSE '' END
           || regexp_replace(trunc(abs(minor::numeric) / 100)::text, '(\d)(?=(?:\d{3})+$)', '\1' || U&'\00A0', 'g')
           || CASE WHEN abs(minor::numeric) % 100 = 0 THEN ''
                   ELSE ',' || lpad((abs(minor::numeric) % 100)::text, 2, '0') END
           || CASE WHEN currency = 'SEK' THEN U&'\00A0kr' ELSE U&'\00A0' || currency END
$$;
