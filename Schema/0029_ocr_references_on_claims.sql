-- OCR references on repayment claims (DESIGN §11): a settlement that opens a claim gets a Swedish OCR reference
-- (digits: the grant's id, a length digit and a Luhn check digit) that the grantee quotes when paying back, so a
-- credit on the programme's account can be matched to its claim. Set by a trigger as the settlement is
-- inserted (Schema/rules/bank.sql defines it), and never changed afterwards.
CREATE FUNCTION grants.ocr_valid(digits text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN RAISE EXCEPTION 'grants.ocr_valid is defined by Schema/rules/bank.sql' USING ERRCODE = 'XX000'; END $$;
CREATE FUNCTION grants.settlement_ocr_reference() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'grants.settlement_ocr_reference is defined by Schema/rules/bank.sql' USING ERRCODE = 'XX000'; END $$;

ALTER TABLE grants.settlement ADD COLUMN ocr_reference text UNIQUE;

-- Claims settled before this migration get theirs now, computed as the trigger computes it (the settlement's
-- update guard compares the settled columns, which this leaves as they are).
UPDATE grants.settlement s
   SET ocr_reference = b.base || (SELECT d FROM generate_series(0, 9) d WHERE grants.luhn_valid(b.base || d) LIMIT 1)
  FROM (SELECT x.grant_id, x.grant_id::text || ((length(x.grant_id::text) + 2) % 10)::text AS base
          FROM grants.settlement x WHERE x.claimed > 0) b
 WHERE s.grant_id = b.grant_id;

ALTER TABLE grants.settlement ADD CONSTRAINT settlement_ocr_reference_valid CHECK (grants.ocr_valid(ocr_reference)) NOT VALID;

CREATE TRIGGER settlement_ocr_reference BEFORE INSERT OR UPDATE OF ocr_reference ON grants.settlement
    FOR EACH ROW EXECUTE FUNCTION grants.settlement_ocr_reference();
