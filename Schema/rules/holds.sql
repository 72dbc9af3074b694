-- A tranche held back by its report (DESIGN §10). The current definition: re-applied when it changes.
--
-- A requirement with before_tranche = N that is neither approved nor waived holds every tranche numbered N or
-- later of its grant: cancelling tranche N and scheduling the money as N + 1 does not release it, nor does paying
-- a later tranche first. The trigger (0011) fires on every update that attests or pays, for every writer; a
-- disbursement is never inserted attested or paid. The requirement named is the lowest-numbered hold (then the
-- first added).
--
-- SQLSTATE GR110 (DETAIL: rule held_back, entity grant, key its reference; tranche, requirement, disbursement).

CREATE OR REPLACE FUNCTION grants.tranche_hold_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    held record;
BEGIN
    SELECT q.id, g.reference INTO held
      FROM grants.reporting_requirement q JOIN grants.grant g ON g.id = q.grant_id
     WHERE q.grant_id = NEW.grant_id AND q.before_tranche <= NEW.tranche AND q.status NOT IN ('approved', 'waived')
     ORDER BY q.before_tranche, q.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'tranche % of grant % is held back until requirement % is approved or waived',
                        NEW.tranche, held.reference, held.id
            USING ERRCODE = 'GR110',
                  DETAIL = grants.rule_detail('held_back', 'grant', held.reference,
                      jsonb_build_object('tranche', NEW.tranche, 'requirement', held.id, 'disbursement', NEW.id));
    END IF;
    RETURN NEW;
END
$$;
