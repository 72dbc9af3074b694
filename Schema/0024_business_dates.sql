-- Time in the books (DESIGN §7): every money event carries the business date it belongs to beside the moment it
-- was recorded. Decisions (approval.decided_on), payments and reversals (disbursement.paid_on), settlements
-- (settled_on), repayments (received_on) and closings and write-offs (grant.closed_on) were dated already. Two
-- events were not: an amendment (only amended_at, when it was recorded) and a cancellation (only cancelled_at).
--
-- Rows recorded before this migration keep what they have: their business date was never given, and it is not
-- invented here. grants.business_date reads such a row's date as the day it was recorded (UTC), which is what
-- every export showed for it until now. New rows carry their own date (the API functions require it).
ALTER TABLE grants.grant_amendment ADD COLUMN amended_on date;
ALTER TABLE grants.disbursement ADD COLUMN cancelled_on date;

CREATE FUNCTION grants.business_date(on_date date, recorded_at timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(on_date, (recorded_at AT TIME ZONE 'UTC')::date)
$$;

-- Programme settings the exports need for the books over time and for tracing money upwards:
-- the receivable a settlement's claim is booked on (SIE; BAS 1689 "Övriga kortfristiga fordringar" when not set),
-- and the funder's own IATI activity and organisation type (participating-org/@activity-id and @type).
ALTER TABLE grants.programme_settings
    ADD COLUMN sie_receivable_account text CHECK (sie_receivable_account ~ '^[0-9]{4}$'),
    ADD COLUMN funder_activity_id text CHECK (funder_activity_id ~ '^[A-Z]{2}-[A-Za-z0-9._:-]*[A-Za-z0-9]$'
                                             AND length(funder_activity_id) <= 200),
    ADD COLUMN funder_type text CHECK (funder_type ~ '^[0-9]{2}$');

-- Their return types grow: the repeatable definitions create them again (a new database has none yet).
DROP FUNCTION IF EXISTS grants_api.set_programme_settings(text, jsonb, text);
DROP FUNCTION IF EXISTS grants.programme_row(bigint);
