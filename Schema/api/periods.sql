-- Closed periods' API (DESIGN §6, §7): finance closes a programme's year or month, reopens it with a reason,
-- and anyone reads the list. Closing and reopening lock the programme's row (an UPDATE: see the lock protocol
-- in Schema/rules/periods.sql), write the period and its audit event, and return the period's row. Closing a
-- closed period again is a retry; so is reopening an open one again with the same reason by the same person.
-- Only finance (and the owner) may call close_period and open_period (Schema/privileges/roles.sql): the books
-- are finance's, and the people who record decisions and payments do not decide which of their dates the books
-- still take.
--
-- SQLSTATEs: GR002 invalid transition (reopening what is not closed), GR007 not found, GR008 invalid input.

-- The programme a period command means: the one named, or the only one there is.
CREATE OR REPLACE FUNCTION grants.period_programme(p_programme text, p_period text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found_id bigint;
    programmes int;
BEGIN
    IF p_programme IS NOT NULL THEN
        SELECT p.id INTO found_id FROM grants.programme p WHERE p.name = p_programme;
        IF NOT FOUND THEN
            PERFORM grants.refuse_not_found('programme', p_programme);
        END IF;
        RETURN found_id;
    END IF;
    SELECT count(*), min(p.id) INTO programmes, found_id FROM grants.programme p;
    IF programmes = 0 THEN
        PERFORM grants.refuse_not_found('programme', '(none recorded)');
    END IF;
    IF programmes > 1 THEN
        PERFORM grants.refuse_input('period', coalesce(p_period, ''), 'programme',
                                    format('%s programmes are recorded: name the programme', programmes));
    END IF;
    RETURN found_id;
END
$$;

-- A period's text, checked: 'YYYY' or 'YYYY-MM', from 1900, not starting after today.
CREATE OR REPLACE FUNCTION grants.check_period(p_period text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_period IS NULL OR p_period !~ '^[0-9]{4}(-(0[1-9]|1[0-2]))?$' OR p_period < '1900' THEN
        PERFORM grants.refuse_input('period', coalesce(p_period, ''), 'period', 'is a year (YYYY) or a month (YYYY-MM)');
    END IF;
    -- Not after today anywhere: the library checks the caller's own today before it calls.
    IF make_date(substr(p_period, 1, 4)::int, coalesce(nullif(substr(p_period, 6, 2), '')::int, 1), 1) > current_date + 1 THEN
        PERFORM grants.refuse_input('period', p_period, 'period',
            format('%s has not begun (today is %s)', p_period, to_char(current_date, 'YYYY-MM-DD')));
    END IF;
END
$$;

-- Closes a programme's year or month (p_programme may be NULL when there is one programme): from now on no
-- event dated inside it is written, by any path. Returns the period's row.
CREATE OR REPLACE FUNCTION grants_api.close_period(p_programme text, p_period text, p_actor text DEFAULT NULL)
RETURNS SETOF grants.period_row
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    programme bigint;
    recorded grants.book_period;
    period_id bigint;
BEGIN
    PERFORM grants.check_period(p_period);
    programme := grants.period_programme(p_programme, p_period);
    -- The lock every dated event of the programme shares (Schema/rules/periods.sql); an UPDATE, so a writer whose
    -- snapshot is older than this close fails to take it instead of missing the close.
    UPDATE grants.programme p SET periods_changed_at = now() WHERE p.id = programme;
    SELECT * INTO recorded FROM grants.book_period b WHERE b.programme_id = programme AND b.period = p_period;
    IF FOUND AND recorded.status = 'closed' THEN
        RETURN QUERY SELECT * FROM grants.period_row v WHERE v.id = recorded.id;
        RETURN;
    END IF;
    IF FOUND THEN
        UPDATE grants.book_period SET status = 'closed', closed_by = actor, closed_at = now() WHERE id = recorded.id;
        period_id := recorded.id;
    ELSE
        INSERT INTO grants.book_period (programme_id, period, status, closed_by, closed_at)
        VALUES (programme, p_period, 'closed', actor, now())
        RETURNING id INTO period_id;
    END IF;
    -- What the period holds as it closes (a later statement than the lock: every event that took the lock first
    -- has committed): an event dated inside it never gets in afterwards, so this count stays what it is.
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    SELECT actor, 'period.closed', 'period', p_period,
           jsonb_build_object('programme', p.name,
                              'events', grants.events_in_period(programme, b.starts_on, b.ends_on))
      FROM grants.programme p JOIN grants.book_period b ON b.programme_id = p.id
     WHERE p.id = programme AND b.id = period_id;
    RETURN QUERY SELECT * FROM grants.period_row v WHERE v.id = period_id;
END
$$;

-- Reopens a closed year or month, with the reason (an audited act). Events dated inside it are accepted again
-- until it is closed again. A month inside a closed year stays closed with the year: the year is reopened.
CREATE OR REPLACE FUNCTION grants_api.open_period(p_programme text, p_period text, p_reason text, p_actor text DEFAULT NULL)
RETURNS SETOF grants.period_row
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    programme bigint;
    recorded grants.book_period;
    covering grants.book_period;
BEGIN
    PERFORM grants.check_period(p_period);
    PERFORM grants.check_text('period', p_period, 'reason', p_reason);
    programme := grants.period_programme(p_programme, p_period);
    UPDATE grants.programme p SET periods_changed_at = now() WHERE p.id = programme;
    SELECT * INTO recorded FROM grants.book_period b WHERE b.programme_id = programme AND b.period = p_period;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'period % cannot go from open to open: it was never closed', p_period
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'period', p_period,
                                              jsonb_build_object('from', 'open', 'to', 'open'));
    END IF;
    IF recorded.status = 'open' THEN
        IF recorded.reopened_by = actor AND recorded.reopen_reason = p_reason THEN
            RETURN QUERY SELECT * FROM grants.period_row v WHERE v.id = recorded.id;
            RETURN;
        END IF;
        RAISE EXCEPTION 'period % cannot go from open to open', p_period
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'period', p_period,
                                              jsonb_build_object('from', 'open', 'to', 'open'));
    END IF;
    SELECT * INTO covering FROM grants.book_period b
     WHERE b.programme_id = programme AND b.status = 'closed' AND b.id <> recorded.id
       AND b.starts_on <= recorded.starts_on AND b.ends_on >= recorded.ends_on
     ORDER BY b.ends_on DESC LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'period % cannot go from closed to open while % is closed: reopen %', p_period, covering.period,
                        covering.period
            USING ERRCODE = 'GR002',
                  DETAIL = grants.rule_detail('invalid_transition', 'period', p_period,
                      jsonb_build_object('from', format('closed (inside the closed period %s)', covering.period), 'to', 'open'));
    END IF;
    UPDATE grants.book_period SET status = 'open', reopened_by = actor, reopened_at = now(), reopen_reason = p_reason
     WHERE id = recorded.id;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    SELECT actor, 'period.opened', 'period', p_period, jsonb_build_object('programme', p.name, 'reason', p_reason)
      FROM grants.programme p WHERE p.id = programme;
    RETURN QUERY SELECT * FROM grants.period_row v WHERE v.id = recorded.id;
END
$$;

-- Every closed or reopened period (of p_programme when given), in order. A read: every role may call it.
CREATE OR REPLACE FUNCTION grants_api.periods(p_programme text DEFAULT NULL)
RETURNS SETOF grants.period_row
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT v.* FROM grants.period_row v
     WHERE p_programme IS NULL OR v.programme = p_programme
     ORDER BY v.programme, v.starts_on, v.ends_on DESC
$$;
