-- Applications, decisions and the grant itself go through the database's API (Schema/api/applications.sql,
-- Schema/api/grants.sql). This migration holds what is not a repeatable definition:
--
-- * grants.approve (0014) is now grants_api.approve: SECURITY DEFINER, the actor resolved by
--   grants.acting_person. The old function, which ran as the caller, goes.
-- * An application's partners and themes are given when it is submitted (grants_api.submit_application, or a
--   round's record), in the transaction that inserts it, and never added later: not to an approved grant, not
--   by the owner either. (0019 keeps the links from being changed or deleted.)
-- * grants.application_row: an application with its round, programme and parties, the row the API's
--   application functions return (the columns the library decodes, as grants.grant_row is for a grant).

DROP FUNCTION grants.approve(text, text, bigint, text, text, date, text, boolean, text);

CREATE VIEW grants.application_row WITH (security_invoker = true) AS
SELECT a.id, a.reference, p.name AS programme, r.name AS round, a.title, a.phase, a.requested, a.currency,
       a.starts_on, a.ends_on, a.status, c.reference AS continues,
       o.id AS applicant_id, o.name AS applicant_name, o.country AS applicant_country,
       o.org_number AS applicant_org_number, o.municipality_code AS applicant_code, o.kind AS applicant_kind,
       pa.ids AS partner_ids, pa.names AS partner_names, pa.countries AS partner_countries,
       pa.numbers AS partner_numbers, pa.codes AS partner_codes, pa.kinds AS partner_kinds,
       coalesce(th.codes, '{}') AS themes,
       a.programme_id, a.round_id, a.applicant_id AS applicant_key, a.continues_grant_id
  FROM grants.application a
  JOIN grants.allocation_round r ON r.id = a.round_id
  JOIN grants.programme p ON p.id = a.programme_id
  JOIN grants.organisation o ON o.id = a.applicant_id
  LEFT JOIN grants.grant c ON c.id = a.continues_grant_id
  LEFT JOIN LATERAL (
      SELECT array_agg(po.id ORDER BY x.position) AS ids, array_agg(po.name ORDER BY x.position) AS names,
             array_agg(po.country ORDER BY x.position) AS countries,
             array_agg(po.org_number ORDER BY x.position) AS numbers,
             array_agg(po.municipality_code ORDER BY x.position) AS codes,
             array_agg(po.kind ORDER BY x.position) AS kinds
        FROM grants.application_partner x JOIN grants.organisation po ON po.id = x.organisation_id
       WHERE x.application_id = a.id
  ) pa ON true
  LEFT JOIN LATERAL (
      SELECT array_agg(t.theme_code ORDER BY t.position) AS codes
        FROM grants.application_theme t WHERE t.application_id = a.id
  ) th ON true;

-- The application was inserted in this transaction exactly when its submitted_at is this transaction's now().
CREATE FUNCTION grants.links_with_their_application() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    late text;
BEGIN
    SELECT a.reference INTO late FROM new_rows n JOIN grants.application a ON a.id = n.application_id
     WHERE a.submitted_at <> now() LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'application %: partners and themes are given when it is submitted, never added later', late
            USING ERRCODE = 'GR001', DETAIL = grants.rule_detail('append_only', 'application', late);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER application_partner_with_its_application AFTER INSERT ON grants.application_partner
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.links_with_their_application();
CREATE TRIGGER application_theme_with_its_application AFTER INSERT ON grants.application_theme
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION grants.links_with_their_application();

SELECT grants.apply_privileges();
