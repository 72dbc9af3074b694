-- The money after the award goes through grants_api (Schema/api/disbursements.sql, requirements.sql,
-- settlements.sql), and its rules hold for every writer (Schema/rules/holds.sql, settlement.sql):
--
-- * grants.schedule (0014) is now grants_api.schedule: SECURITY DEFINER, the actor resolved by
--   grants.acting_person. The old function runs as its caller and trusts the actor it is given: it goes.
-- * A settlement and a payment can no longer pass each other. Settling locks the grant FOR UPDATE (0011's
--   settlement_insert_guard); a new disbursement (AFTER INSERT) and an attestation or payment (BEFORE UPDATE)
--   now lock their grant first and look for the settlement in a later statement, which under READ COMMITTED
--   sees a settlement committed while it waited. Before, an attestation or payment was not checked at all, and a
--   new tranche was checked before its grant was locked.
-- * A repayment's id is always taken from grants.next_entry_id() by the database: one given by the writer is
--   refused, so a later disbursement can never be issued an id a repayment already holds.
--
-- The hold (0011's tranche_hold_guard) now holds every tranche numbered N or later: only its function changes
-- (Schema/rules/holds.sql). Its trigger fires on the updates that attest or pay. A disbursement cannot be
-- inserted attested or paid (grant_totals_after_disbursement_insert refuses any new row that is not
-- 'scheduled' or a 'reversal'), so there is no insert path for the hold to watch.
--
-- New trigger functions are created here with a body that refuses: their definition is the file named, which
-- the migrator applies right after the migrations, so each rule has its text in one place.

DROP FUNCTION grants.schedule(text, text, bigint, text, text, date, int, text, text, text);

CREATE FUNCTION grants.disbursement_change_after_settlement() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'grants.disbursement_change_after_settlement is defined by Schema/rules/settlement.sql'
        USING ERRCODE = 'XX000';
END
$$;
-- Named to fire after disbursement_update_guard, so an invalid state change is said first.
CREATE TRIGGER settled_grant_refuses_attest_or_pay BEFORE UPDATE ON grants.disbursement
    FOR EACH ROW WHEN (NEW.status IN ('attested', 'paid') AND NEW.status IS DISTINCT FROM OLD.status)
    EXECUTE FUNCTION grants.disbursement_change_after_settlement();

CREATE FUNCTION grants.repayment_takes_its_id() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'grants.repayment_takes_its_id is defined by Schema/rules/settlement.sql' USING ERRCODE = 'XX000';
END
$$;
-- The trigger assigns the id; a default would take a second number from the sequence for nothing.
ALTER TABLE grants.repayment ALTER COLUMN id DROP DEFAULT;
CREATE TRIGGER repayment_takes_its_id BEFORE INSERT ON grants.repayment
    FOR EACH ROW EXECUTE FUNCTION grants.repayment_takes_its_id();
