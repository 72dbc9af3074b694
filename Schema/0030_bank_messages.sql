-- The bank's answers (DESIGN §11): every pain.002 status report and camt.054 notification imported, once, with
-- what it did. Importing the same message again changes nothing (its kind and MsgId are unique; the items it
-- carried are compared by their fingerprint). Written only by grants_api.import_bank_message (Schema/api/bank.sql).
CREATE TABLE grants.bank_message (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('pain.002', 'camt.054')),
    message_id   text NOT NULL CHECK (length(message_id) BETWEEN 1 AND 35),
    fingerprint  text NOT NULL,
    outcomes     jsonb NOT NULL,
    imported_by  text NOT NULL CONSTRAINT bank_message_imported_by_person REFERENCES grants.person (login),
    imported_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, message_id)
);
CREATE TRIGGER bank_message_append_only BEFORE UPDATE OR DELETE ON grants.bank_message
    FOR EACH ROW EXECUTE FUNCTION grants.refuse_change();
CREATE TRIGGER bank_message_no_truncate BEFORE TRUNCATE ON grants.bank_message
    FOR EACH STATEMENT EXECUTE FUNCTION grants.refuse_change();

SELECT grants.apply_privileges();
