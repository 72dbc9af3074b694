-- Amounts as text where the database writes them itself (audit details).

-- An amount in minor units as the audit log writes it: "950000.00".
CREATE OR REPLACE FUNCTION grants.plain_amount(minor bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN minor < 0 THEN '-' ELSE '' END || (abs(minor) / 100)::text || '.' || lpad((abs(minor) % 100)::text, 2, '0')
$$;
