-- Recording a decided round from its manifest (`round record`): the library reads what is recorded, lists
-- every difference and problem, and then writes through these functions (and grants_api.create_round for a new
-- round), in one transaction under the
-- round's advisory lock. Each is set-based (one INSERT per table, however many grants) and checks what it
-- writes itself, so a staff login calling them by hand is held to the same rules: the actor is a registered
-- person (grants.acting_person), a programme keeps its currency, themes and organisations are added once,
-- and recorded grants are approved applications whose tranches add up to their award and fall inside their
-- period; the table rules (budget with the round locked, conflicts of interest, closed rounds, foreign keys,
-- award) hold behind them.

-- Themes a manifest declares that are not recorded yet (the library has compared the recorded ones).
CREATE OR REPLACE FUNCTION grants_api.record_themes(
    p_codes text[], p_names_sv text[], p_names_en text[], p_dac_sectors text[], p_actor text)
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    added int := 0;
    t record;
BEGIN
    PERFORM grants.check_no_controls('theme', NULL, 'name_sv', p_names_sv);
    PERFORM grants.check_no_controls('theme', NULL, 'name_en', p_names_en);
    -- A manifest declares a handful of themes: each goes through grants_api.add_theme, the one home of its rules.
    FOR t IN SELECT * FROM unnest(p_codes, p_names_sv, p_names_en, p_dac_sectors) AS t(code, name_sv, name_en, dac_sector) LOOP
        PERFORM grants_api.add_theme(t.code, t.name_sv, t.name_en, t.dac_sector, p_actor);
        added := added + 1;
    END LOOP;
    RETURN added;
END
$$;

-- The grants of a decided round: their approved applications with partners and themes, the approvals, the
-- grants with their tranches, the reporting requirements and an audit event per grant, then one for the
-- round. Arrays run in parallel, one element per grant; the partner, theme, tranche and report arrays name
-- their grant by its 1-based position. Returns the number of grants recorded.
CREATE OR REPLACE FUNCTION grants_api.record_grants(
    p_round_id bigint, p_decided_on date,
    p_references text[], p_titles text[], p_applicants bigint[], p_phases text[], p_requested bigint[],
    p_amounts bigint[], p_starts date[], p_ends date[], p_continues bigint[], p_decision_refs text[],
    p_partner_grant int[], p_partner_organisations bigint[], p_partner_positions int[],
    p_theme_grant int[], p_theme_codes text[], p_theme_positions int[],
    p_tranche_grant int[], p_tranche_amounts bigint[], p_tranche_dues date[], p_tranche_numbers int[],
    p_report_grant int[], p_report_kinds text[], p_report_dues date[], p_report_before int[],
    p_actor text)
RETURNS int
-- The planner sees an array parameter's unnest as ten rows, so it joins tens of thousands of tranches to their
-- grants by nested loop (seconds, quadratic); the joins here are by key over whole sets, which hashing does in
-- linear time.
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_nestloop = off AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    rnd record;
    n int := coalesce(cardinality(p_references), 0);
    bad record;
    application_ids bigint[];
    recorded int;
BEGIN
    PERFORM grants.check_no_controls('grant', NULL, 'title', p_titles);
    PERFORM grants.check_no_controls('grant', NULL, 'decision_ref', p_decision_refs);
    SELECT r.id, r.name, r.programme_id, r.currency, p.name AS programme INTO rnd
      FROM grants.allocation_round r JOIN grants.programme p ON p.id = r.programme_id WHERE r.id = p_round_id;
    IF NOT FOUND THEN
        PERFORM grants.refuse_not_found('round', p_round_id::text);
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('grants.round' || chr(31) || rnd.programme || chr(31) || rnd.name, 0));
    IF n = 0 THEN
        RETURN 0;
    END IF;
    IF n > 100000 THEN
        PERFORM grants.refuse_input('round', rnd.name, 'grants', 'a round is recorded with at most 100 000 grants at once');
    END IF;
    IF array_length(p_titles, 1) IS DISTINCT FROM n OR array_length(p_applicants, 1) IS DISTINCT FROM n
       OR array_length(p_phases, 1) IS DISTINCT FROM n OR array_length(p_requested, 1) IS DISTINCT FROM n
       OR array_length(p_amounts, 1) IS DISTINCT FROM n OR array_length(p_starts, 1) IS DISTINCT FROM n
       OR array_length(p_ends, 1) IS DISTINCT FROM n OR array_length(p_continues, 1) IS DISTINCT FROM n
       OR array_length(p_decision_refs, 1) IS DISTINCT FROM n THEN
        PERFORM grants.refuse_input('round', rnd.name, 'grants', 'every grant array must have one element per grant');
    END IF;
    IF p_decided_on IS NULL OR p_decided_on > current_date THEN
        PERFORM grants.refuse_input('round', rnd.name, 'round.decided_on',
                                    format('%s is not a decision date (none, or in the future)', p_decided_on));
    END IF;
    -- Positions name a grant of this call.
    SELECT x.g INTO bad FROM unnest(p_partner_grant || p_theme_grant || p_tranche_grant || p_report_grant) AS x(g)
     WHERE x.g IS NULL OR x.g < 1 OR x.g > n LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_input('round', rnd.name, 'grants', 'a partner, theme, tranche or report names no grant of this call');
    END IF;
    -- Every grant has tranches that add up to its award, numbered 1, 2, … and due inside its period. (Arrays are
    -- joined by position, never subscripted row by row: a subscript into a large parameter costs its length.)
    WITH g AS (
        SELECT * FROM unnest(p_references, p_amounts, p_starts, p_ends) WITH ORDINALITY AS g(reference, amount, starts, ends, i)
    ), t AS (
        SELECT x.g, sum(x.a) AS total, min(x.num) AS first, max(x.num) AS last, count(*) AS n, count(DISTINCT x.num) AS numbers,
               bool_and(x.d BETWEEN g.starts AND g.ends) AS inside
          FROM unnest(p_tranche_grant, p_tranche_amounts, p_tranche_dues, p_tranche_numbers) AS x(g, a, d, num)
          JOIN g ON g.i = x.g
         GROUP BY x.g
    )
    SELECT g.i, g.reference INTO bad
      FROM g LEFT JOIN t ON t.g = g.i
     WHERE coalesce(t.total, 0) <> g.amount OR NOT coalesce(t.first = 1 AND t.last = t.n AND t.numbers = t.n, false)
        OR NOT coalesce(t.inside, false) OR g.amount <= 0 OR g.starts > g.ends
     LIMIT 1;
    IF FOUND THEN
        PERFORM grants.refuse_input('grant', bad.reference, format('grants[%s].tranches', bad.i - 1),
            'tranches must be numbered 1, 2, …, fall inside the period and add up to the amount');
    END IF;

    WITH i AS (
        INSERT INTO grants.application (programme_id, round_id, reference, title, applicant_id, phase, requested, currency,
            starts_on, ends_on, status, submitted_by, continues_grant_id)
        SELECT rnd.programme_id, rnd.id, m.reference, m.title, m.applicant, m.phase, m.requested, rnd.currency, m.starts,
               m.ends, 'approved', actor, m.continues
          FROM unnest(p_references, p_titles, p_applicants, p_phases, p_requested, p_starts, p_ends, p_continues)
               AS m(reference, title, applicant, phase, requested, starts, ends, continues)
        RETURNING id, reference
    )
    SELECT array_agg(i.id ORDER BY r.n) INTO application_ids
      FROM i JOIN unnest(p_references) WITH ORDINALITY AS r(reference, n) ON r.reference = i.reference;

    INSERT INTO grants.application_partner (application_id, organisation_id, position)
    SELECT application_ids[x.g], x.o, x.p FROM unnest(p_partner_grant, p_partner_organisations, p_partner_positions) AS x(g, o, p);
    INSERT INTO grants.application_theme (application_id, theme_code, position)
    SELECT application_ids[x.g], x.c, x.p FROM unnest(p_theme_grant, p_theme_codes, p_theme_positions) AS x(g, c, p);
    INSERT INTO grants.approval (application_id, decision, awarded, decided_on, decision_ref, decided_by)
    SELECT m.application, 'approved', m.awarded, p_decided_on, m.ref, actor
      FROM unnest(application_ids, p_amounts, p_decision_refs) AS m(application, awarded, ref);

    WITH g AS (
        INSERT INTO grants.grant (application_id, programme_id, round_id, reference, original_amount, amount, currency,
            starts_on, original_ends_on, ends_on)
        SELECT m.application, rnd.programme_id, rnd.id, m.reference, m.amount, m.amount, rnd.currency,
               m.starts, m.ends, m.ends
          FROM unnest(application_ids, p_references, p_amounts, p_starts, p_ends) AS m(application, reference, amount, starts, ends)
        RETURNING id, application_id
    ), d AS (
        INSERT INTO grants.disbursement (grant_id, amount, currency, due_on, tranche, scheduled_by)
        SELECT g.id, t.a, rnd.currency, t.d, t.num, actor
          FROM unnest(p_tranche_grant, p_tranche_amounts, p_tranche_dues, p_tranche_numbers) AS t(i, a, d, num)
          JOIN g ON g.application_id = application_ids[t.i]
    )
    SELECT count(*) INTO recorded FROM g;

    INSERT INTO grants.reporting_requirement (grant_id, kind, due_on, before_tranche, created_by)
    SELECT g.id, m.k, m.d, m.b, actor
      FROM unnest(p_report_grant, p_report_kinds, p_report_dues, p_report_before) AS m(i, k, d, b)
      JOIN grants.grant g ON g.application_id = application_ids[m.i];

    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    SELECT actor, 'grant.recorded', 'grant', m.reference, jsonb_build_object('round', rnd.name, 'awarded', grants.plain_amount(m.amount))
      FROM unnest(p_references, p_amounts) AS m(reference, amount);
    RETURN recorded;
END
$$;

-- The round's own audit event, once its new grants (or itself) are recorded.
CREATE OR REPLACE FUNCTION grants_api.record_round_event(p_round_id bigint, p_grants_added int, p_awarded_added bigint, p_actor text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
    rnd record;
BEGIN
    SELECT r.name, p.name AS programme INTO rnd
      FROM grants.allocation_round r JOIN grants.programme p ON p.id = r.programme_id WHERE r.id = p_round_id;
    IF NOT FOUND THEN
        PERFORM grants.refuse_not_found('round', p_round_id::text);
    END IF;
    INSERT INTO grants.audit_event (actor, action, entity_kind, entity_key, details)
    VALUES (actor, 'round.recorded', 'round', rnd.name,
            jsonb_build_object('programme', rnd.programme, 'grants_added', p_grants_added::text,
                               'awarded_added', grants.plain_amount(p_awarded_added)));
END
$$;

-- Organisations a manifest names that are not recorded yet (the library matched the others by
-- organisationsnummer, else by normalised name and country); each name is stored in its one normalised form
-- (grants.organisation_name refuses look-alikes); returns each new organisation's id with its 1-based position
-- in the arrays.
CREATE OR REPLACE FUNCTION grants_api.record_organisations(
    p_names text[], p_countries text[], p_org_numbers text[], p_municipality_codes text[], p_kinds text[], p_actor text)
RETURNS TABLE (n bigint, id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor text := grants.acting_person(p_actor);
BEGIN
    RETURN QUERY
    WITH m AS (
        SELECT * FROM unnest(p_names, p_countries, p_org_numbers, p_municipality_codes, p_kinds)
            WITH ORDINALITY AS m(name, country, org_number, municipality_code, kind, n)
    ), i AS (
        INSERT INTO grants.organisation (name, country, org_number, municipality_code, kind)
        SELECT grants.organisation_name(m.name), m.country, m.org_number, m.municipality_code, m.kind FROM m ORDER BY m.n
        RETURNING organisation.id, organisation.name, organisation.country
    )
    SELECT m.n, i.id FROM i JOIN m ON grants.organisation_name(m.name) = i.name AND m.country = i.country ORDER BY m.n;
END
$$;
