-- Closed periods (DESIGN §7 "Time in the books"): a programme's closed year or month accepts no event dated
-- inside it: a decision (approval.decided_on), an amendment (amended_on), a payment or a reversal (paid_on), a
-- cancellation (cancelled_on), a settlement (settled_on), a repayment (received_on), a closing or write-off
-- (grant.closed_on). The triggers of Schema/0025_closed_periods.sql call these functions for every writer, the
-- owner included; the API functions reach them through their writes. The current definitions.
--
-- One lock protocol keeps a close and an event dated inside it from passing each other:
--   * closing and reopening (grants_api.close_period, open_period) UPDATE the programme's row first
--     (periods_changed_at) and hold that lock until they commit;
--   * every dated event takes the programme's row FOR SHARE, last, after whatever else it locks, and reads the
--     periods in a later statement. Under READ COMMITTED that statement has a new snapshot: a close committed
--     while the lock was awaited is seen, and the event is refused. A close that comes later waits for the
--     event's commit. Under REPEATABLE READ or SERIALIZABLE the lock itself fails (40001, retried) when a close
--     committed after the event's snapshot, because the close updated the row.
-- A close holds no other lock while it waits, so the order (the event's rows, then the programme) cannot close a
-- cycle. Payers of one programme share the lock and never wait on each other for it.
--
-- SQLSTATE GR120, rule period_closed: entity 'period', key the period ('2022', '2022-03'), and programme, event,
-- on (the event's date), closed_by, closed_at, first_open (the first day after it that no closed period covers).

-- The closed period of a programme that covers a day, the widest first (a year before its months).
CREATE OR REPLACE FUNCTION grants.closed_period_on(p_programme_id bigint, p_on date) RETURNS grants.book_period
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT b.* FROM grants.book_period b
     WHERE b.programme_id = p_programme_id AND b.status = 'closed' AND p_on BETWEEN b.starts_on AND b.ends_on
     ORDER BY b.ends_on DESC, b.starts_on LIMIT 1
$$;

-- The first day on or after p_on that no closed period of the programme covers.
CREATE OR REPLACE FUNCTION grants.first_open_day(p_programme_id bigint, p_on date) RETURNS date
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    day date := p_on;
    covering grants.book_period;
    steps int := 0;
BEGIN
    -- Each step passes a closed period: a limit far above any programme's number of periods.
    WHILE steps < 100000 LOOP
        covering := grants.closed_period_on(p_programme_id, day);
        EXIT WHEN covering.id IS NULL;
        day := covering.ends_on + 1;
        steps := steps + 1;
    END LOOP;
    RETURN day;
END
$$;

-- Refuses an event of a programme dated p_on when a closed period covers that day (GR120). Takes the
-- programme's row FOR SHARE first (see above).
CREATE OR REPLACE FUNCTION grants.refuse_closed_period(p_programme_id bigint, p_on date, p_event text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    covering grants.book_period;
    programme_name text;
    first_open date;
BEGIN
    IF p_on IS NULL THEN
        RETURN;
    END IF;
    SELECT p.name INTO programme_name FROM grants.programme p WHERE p.id = p_programme_id FOR SHARE;
    -- A later statement than the lock: a close committed while it was awaited is seen.
    covering := grants.closed_period_on(p_programme_id, p_on);
    IF covering.id IS NULL THEN
        RETURN;
    END IF;
    first_open := grants.first_open_day(p_programme_id, covering.ends_on + 1);
    RAISE EXCEPTION '% dated % is in period % of %, closed by % on %: date it in the first open period (% or later) and name the event it corrects',
                    p_event, to_char(p_on, 'YYYY-MM-DD'), covering.period, programme_name, covering.closed_by,
                    to_char(covering.closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), to_char(first_open, 'YYYY-MM-DD')
        USING ERRCODE = 'GR120',
              DETAIL = grants.rule_detail('period_closed', 'period', covering.period,
                  jsonb_build_object('programme', programme_name, 'event', p_event, 'on', to_char(p_on, 'YYYY-MM-DD'),
                                     'closed_by', covering.closed_by,
                                     'closed_at', to_char(covering.closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                     'first_open', to_char(first_open, 'YYYY-MM-DD')));
END
$$;

-- Decisions, a statement at a time (a round's record inserts thousands): the programmes locked in id order, then
-- the first decision inside a closed period refused.
CREATE OR REPLACE FUNCTION grants.decisions_in_open_periods() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    late record;
BEGIN
    PERFORM 1 FROM grants.programme p
     WHERE p.id = ANY (ARRAY(SELECT DISTINCT a.programme_id FROM new_rows n JOIN grants.application a ON a.id = n.application_id))
     ORDER BY p.id FOR SHARE;
    -- Only programmes with a closed period have anything to look at.
    SELECT a.programme_id, n.decided_on INTO late
      FROM new_rows n JOIN grants.application a ON a.id = n.application_id
     WHERE EXISTS (SELECT 1 FROM grants.book_period b
                    WHERE b.programme_id = a.programme_id AND b.status = 'closed'
                      AND n.decided_on BETWEEN b.starts_on AND b.ends_on)
     ORDER BY n.decided_on LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_closed_period(late.programme_id, late.decided_on, 'decision');
    END IF;
    RETURN NULL;
END
$$;

-- Every other dated event, a row at a time: the date it carries, or a date it changes (the old one too: an
-- event is not moved out of a closed period either). One function per table.
CREATE OR REPLACE FUNCTION grants.grant_programme(p_grant_id bigint) RETURNS bigint
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT g.programme_id FROM grants.grant g WHERE g.id = p_grant_id
$$;

CREATE OR REPLACE FUNCTION grants.amendments_in_open_periods() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM grants.refuse_closed_period(grants.grant_programme(NEW.grant_id), NEW.amended_on, 'amendment');
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION grants.disbursements_in_open_periods() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    programme bigint := grants.grant_programme(NEW.grant_id);
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.paid_on IS DISTINCT FROM NEW.paid_on THEN
            PERFORM grants.refuse_closed_period(programme, OLD.paid_on, 'payment');
        END IF;
        IF OLD.cancelled_on IS DISTINCT FROM NEW.cancelled_on THEN
            PERFORM grants.refuse_closed_period(programme, OLD.cancelled_on, 'cancellation');
        END IF;
    END IF;
    PERFORM grants.refuse_closed_period(programme, NEW.paid_on,
                                        CASE WHEN NEW.status = 'reversal' THEN 'reversal' ELSE 'payment' END);
    PERFORM grants.refuse_closed_period(programme, NEW.cancelled_on, 'cancellation');
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION grants.settlements_in_open_periods() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    programme bigint := grants.grant_programme(NEW.grant_id);
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM grants.refuse_closed_period(programme, OLD.settled_on, 'settlement');
    END IF;
    PERFORM grants.refuse_closed_period(programme, NEW.settled_on, 'settlement');
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION grants.repayments_in_open_periods() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM grants.refuse_closed_period(grants.grant_programme(NEW.grant_id), NEW.received_on, 'repayment');
    RETURN NULL;
END
$$;

-- A closing, and the write-off it dates.
CREATE OR REPLACE FUNCTION grants.closings_in_open_periods() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM grants.refuse_closed_period(NEW.programme_id, OLD.closed_on, 'closing');
    PERFORM grants.refuse_closed_period(NEW.programme_id, NEW.closed_on, 'closing');
    RETURN NULL;
END
$$;

-- A business date an API function requires (an amendment's, a cancellation's, a closing's): given, not after
-- today anywhere (current_date + 1: the library checks the caller's own today before it calls, as for
-- decisions), and not before the grant's decision.
CREATE OR REPLACE FUNCTION grants.check_business_date(entity text, key text, location text, value date, decided date)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF value IS NULL THEN
        PERFORM grants.refuse_input(entity, key, location, 'is required: the business date the event belongs to');
    ELSIF value > current_date + 1 THEN
        PERFORM grants.refuse_input(entity, key, location,
            format('%s is in the future (today is %s)', to_char(value, 'YYYY-MM-DD'), to_char(current_date, 'YYYY-MM-DD')));
    ELSIF value < decided THEN
        PERFORM grants.refuse_input(entity, key, location,
            format('%s is before the grant was decided on %s', to_char(value, 'YYYY-MM-DD'), to_char(decided, 'YYYY-MM-DD')));
    END IF;
END
$$;

-- The day a grant was decided on.
CREATE OR REPLACE FUNCTION grants.decided_on(p_grant_id bigint) RETURNS date
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT ap.decided_on FROM grants.grant g JOIN grants.approval ap ON ap.application_id = g.application_id
     WHERE g.id = p_grant_id
$$;

-- How many events of a programme are dated inside [p_starts, p_ends]: decisions, amendments, payments and
-- reversals, cancellations, settlements, repayments, closings. A close records it in its audit event (what the
-- period held when it closed), so a later count that differs shows an event that got in afterwards.
CREATE OR REPLACE FUNCTION grants.events_in_period(p_programme_id bigint, p_starts date, p_ends date) RETURNS bigint
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT (SELECT count(*) FROM grants.approval ap JOIN grants.application a ON a.id = ap.application_id
             WHERE a.programme_id = p_programme_id AND ap.decided_on BETWEEN p_starts AND p_ends)
         + (SELECT count(*) FROM grants.grant_amendment x JOIN grants.grant g ON g.id = x.grant_id
             WHERE g.programme_id = p_programme_id
               AND grants.business_date(x.amended_on, x.amended_at) BETWEEN p_starts AND p_ends)
         + (SELECT count(*) FROM grants.disbursement d JOIN grants.grant g ON g.id = d.grant_id
             WHERE g.programme_id = p_programme_id AND d.paid_on BETWEEN p_starts AND p_ends)
         + (SELECT count(*) FROM grants.disbursement d JOIN grants.grant g ON g.id = d.grant_id
             WHERE g.programme_id = p_programme_id AND d.status = 'cancelled'
               AND grants.business_date(d.cancelled_on, d.cancelled_at) BETWEEN p_starts AND p_ends)
         + (SELECT count(*) FROM grants.settlement s JOIN grants.grant g ON g.id = s.grant_id
             WHERE g.programme_id = p_programme_id AND s.settled_on BETWEEN p_starts AND p_ends)
         + (SELECT count(*) FROM grants.repayment x JOIN grants.grant g ON g.id = x.grant_id
             WHERE g.programme_id = p_programme_id AND x.received_on BETWEEN p_starts AND p_ends)
         + (SELECT count(*) FROM grants.grant g
             WHERE g.programme_id = p_programme_id AND g.closed_on BETWEEN p_starts AND p_ends)
$$;
