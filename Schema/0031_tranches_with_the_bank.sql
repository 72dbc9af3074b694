-- A tranche with the bank (its item in a live batch not yet answered) is neither paid, cancelled nor sent back
-- by hand, by any writer: the bank pays it and its camt.054 notification records the payment (the import marks
-- the item booked, then pays it through grants_api.pay). The trigger now also fires on a payment; its function
-- is defined by Schema/rules/bank.sql.
DROP TRIGGER disbursement_in_live_batch ON grants.disbursement;
CREATE TRIGGER disbursement_in_live_batch BEFORE UPDATE OF status ON grants.disbursement
    FOR EACH ROW WHEN (OLD.status = 'attested' AND NEW.status IN ('scheduled', 'cancelled', 'paid'))
    EXECUTE FUNCTION grants.disbursement_in_live_batch();
