-- Closed periods and dated events (DESIGN §6, §7 "Time in the books"). What changes tables; the rules live in
-- Schema/rules/periods.sql, the API in Schema/api/periods.sql, grants.sql and disbursements.sql.
--
-- * Every new amendment and cancellation carries its business date. 0024 added the columns (NULL for rows
--   recorded before, read through grants.business_date); the CHECKs here are NOT VALID, so they hold for every
--   row written from now on and leave the old rows as they were recorded.
-- * An amendment may name the event it corrects: the grant's decision, or an earlier amendment of the same
--   grant (a composite foreign key, so it cannot name another grant's). corrects_event is that reference as
--   exports show it: 'decision' or 'amendment N'. (A cancellation and a reversal name their disbursement
--   already.)
-- * grants.book_period: a programme's closed (or reopened) year or month. The books are the programme's; a
--   closed year covers its months. Who closed it and when, and who last reopened it, when and why, are on the
--   row; every close and reopen is also an audit event. A period is never deleted: it is reopened.
-- * grants.programme.periods_changed_at: closing and reopening update the programme's row, and every dated
--   event takes that row FOR SHARE before it reads the periods (Schema/rules/periods.sql), so a close and an
--   event dated inside it never pass each other.
-- * Triggers on every table of dated events refuse an event dated inside a closed period, for every writer, the
--   owner included. Their functions are created here with a body that refuses; the definitions are
--   Schema/rules/periods.sql, applied right after the migrations.
-- * grants_api.amend and grants_api.cancel take the business date (and amend what it corrects): the old
--   signatures go, and the repeatable definitions create the new ones.

ALTER TABLE grants.grant_amendment
    ADD CONSTRAINT amendment_is_dated CHECK (amended_on IS NOT NULL) NOT VALID;
ALTER TABLE grants.disbursement
    ADD CONSTRAINT cancellation_is_dated CHECK (status <> 'cancelled' OR cancelled_on IS NOT NULL) NOT VALID;

ALTER TABLE grants.grant_amendment
    ADD CONSTRAINT grant_amendment_grant_id_id UNIQUE (grant_id, id),
    ADD COLUMN corrects_decision boolean NOT NULL DEFAULT false,
    ADD COLUMN corrects_amendment_id bigint,
    ADD CONSTRAINT amendment_corrects_its_grants FOREIGN KEY (grant_id, corrects_amendment_id)
        REFERENCES grants.grant_amendment (grant_id, id),
    ADD CONSTRAINT amendment_corrects_one_event CHECK (NOT (corrects_decision AND corrects_amendment_id IS NOT NULL)),
    ADD CONSTRAINT amendment_corrects_an_earlier_one CHECK (corrects_amendment_id < id),
    ADD COLUMN corrects_event text GENERATED ALWAYS AS (
        CASE WHEN corrects_decision THEN 'decision'
             WHEN corrects_amendment_id IS NOT NULL THEN 'amendment ' || corrects_amendment_id::text END) STORED;

ALTER TABLE grants.programme ADD COLUMN periods_changed_at timestamptz;

CREATE TABLE grants.book_period (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_id   bigint NOT NULL REFERENCES grants.programme,
    -- 'YYYY' (a year) or 'YYYY-MM' (a month).
    period         text NOT NULL CHECK (period ~ '^[0-9]{4}(-(0[1-9]|1[0-2]))?$' AND period >= '1900'),
    starts_on      date NOT NULL GENERATED ALWAYS AS (
                       make_date(substr(period, 1, 4)::int, coalesce(nullif(substr(period, 6, 2), '')::int, 1), 1)) STORED,
    ends_on        date NOT NULL GENERATED ALWAYS AS ((
                       make_date(substr(period, 1, 4)::int, coalesce(nullif(substr(period, 6, 2), '')::int, 1), 1)
                       + CASE WHEN length(period) = 4 THEN interval '1 year' ELSE interval '1 month' END
                       - interval '1 day')::date) STORED,
    status         text NOT NULL CHECK (status IN ('closed', 'open')),
    closed_by      text NOT NULL CONSTRAINT book_period_closed_by_person REFERENCES grants.person (login),
    closed_at      timestamptz NOT NULL,
    reopened_by    text CONSTRAINT book_period_reopened_by_person REFERENCES grants.person (login),
    reopened_at    timestamptz,
    reopen_reason  text CHECK (length(reopen_reason) BETWEEN 1 AND 1000),
    UNIQUE (programme_id, period),
    CONSTRAINT reopening_has_its_reason CHECK (
        (reopened_by IS NULL) = (reopened_at IS NULL) AND (reopened_by IS NULL) = (reopen_reason IS NULL)
        AND (status = 'closed' OR reopened_by IS NOT NULL))
);
CREATE INDEX book_period_closed ON grants.book_period (programme_id, starts_on) WHERE status = 'closed';
COMMENT ON TABLE grants.book_period IS
    'A programme''s closed or reopened year or month: no event dated inside a closed one is written (Schema/rules/periods.sql).';

-- A period is reopened, never removed.
CREATE TRIGGER book_period_no_delete BEFORE DELETE ON grants.book_period
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER book_period_no_truncate BEFORE TRUNCATE ON grants.book_period
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();

-- A period as `period list` shows it.
CREATE VIEW grants.period_row WITH (security_invoker = true) AS
SELECT b.id, p.name AS programme, b.period, b.starts_on, b.ends_on, b.status, b.closed_by, b.closed_at,
       b.reopened_by, b.reopened_at, b.reopen_reason, b.programme_id
  FROM grants.book_period b JOIN grants.programme p ON p.id = b.programme_id;

-- A disbursement's row (0014) also says when it was cancelled, as a business date (one cancelled before 0024
-- reads as its recording day).
CREATE OR REPLACE VIEW grants.disbursement_row WITH (security_invoker = true) AS
SELECT d.id, g.reference, p.name AS programme, r.name AS round, d.amount, d.currency, d.due_on, d.status, d.tranche,
       d.reverses_id, d.scheduled_by, d.attested_by, d.paid_on, d.payment_reference, d.reason, d.grant_id,
       CASE WHEN d.status = 'cancelled' THEN grants.business_date(d.cancelled_on, d.cancelled_at) END AS cancelled_on
  FROM grants.disbursement d
  JOIN grants.grant g ON g.id = d.grant_id
  JOIN grants.allocation_round r ON r.id = g.round_id
  JOIN grants.programme p ON p.id = g.programme_id;

-- The trigger functions; their definitions are Schema/rules/periods.sql.
CREATE FUNCTION grants.decisions_in_open_periods() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'grants.decisions_in_open_periods is defined by Schema/rules/periods.sql' USING ERRCODE = 'XX000';
END
$$;
CREATE FUNCTION grants.amendments_in_open_periods() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'grants.amendments_in_open_periods is defined by Schema/rules/periods.sql' USING ERRCODE = 'XX000';
END
$$;
CREATE FUNCTION grants.disbursements_in_open_periods() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'grants.disbursements_in_open_periods is defined by Schema/rules/periods.sql' USING ERRCODE = 'XX000';
END
$$;
CREATE FUNCTION grants.settlements_in_open_periods() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'grants.settlements_in_open_periods is defined by Schema/rules/periods.sql' USING ERRCODE = 'XX000';
END
$$;
CREATE FUNCTION grants.repayments_in_open_periods() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'grants.repayments_in_open_periods is defined by Schema/rules/periods.sql' USING ERRCODE = 'XX000';
END
$$;
CREATE FUNCTION grants.closings_in_open_periods() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'grants.closings_in_open_periods is defined by Schema/rules/periods.sql' USING ERRCODE = 'XX000';
END
$$;

-- Decisions come in sets (a round's record): one check per statement.
CREATE TRIGGER approval_in_open_period AFTER INSERT ON grants.approval
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.decisions_in_open_periods();
-- The others one at a time, and only rows that carry or change a business date: a round's thousands of
-- scheduled tranches do not fire.
CREATE TRIGGER amendment_in_open_period AFTER INSERT ON grants.grant_amendment
    FOR EACH ROW EXECUTE FUNCTION grants.amendments_in_open_periods();
CREATE TRIGGER disbursement_in_open_period AFTER INSERT ON grants.disbursement
    FOR EACH ROW WHEN (NEW.paid_on IS NOT NULL OR NEW.cancelled_on IS NOT NULL)
    EXECUTE FUNCTION grants.disbursements_in_open_periods();
CREATE TRIGGER disbursement_change_in_open_period AFTER UPDATE ON grants.disbursement
    FOR EACH ROW WHEN (NEW.paid_on IS DISTINCT FROM OLD.paid_on OR NEW.cancelled_on IS DISTINCT FROM OLD.cancelled_on
                       OR (NEW.status IS DISTINCT FROM OLD.status AND NEW.status IN ('paid', 'cancelled')))
    EXECUTE FUNCTION grants.disbursements_in_open_periods();
CREATE TRIGGER settlement_in_open_period AFTER INSERT ON grants.settlement
    FOR EACH ROW EXECUTE FUNCTION grants.settlements_in_open_periods();
CREATE TRIGGER settlement_change_in_open_period AFTER UPDATE ON grants.settlement
    FOR EACH ROW WHEN (NEW.settled_on IS DISTINCT FROM OLD.settled_on)
    EXECUTE FUNCTION grants.settlements_in_open_periods();
CREATE TRIGGER repayment_in_open_period AFTER INSERT ON grants.repayment
    FOR EACH ROW EXECUTE FUNCTION grants.repayments_in_open_periods();
CREATE TRIGGER grant_closing_in_open_period AFTER UPDATE ON grants.grant
    FOR EACH ROW WHEN (NEW.closed_on IS DISTINCT FROM OLD.closed_on)
    EXECUTE FUNCTION grants.closings_in_open_periods();

-- Their signatures grow (the business date; what an amendment corrects).
DROP FUNCTION IF EXISTS grants_api.amend(text, text, bigint, text, date, text, text);
DROP FUNCTION IF EXISTS grants_api.cancel(bigint, text, text);
