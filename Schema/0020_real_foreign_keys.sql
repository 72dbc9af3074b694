-- Referential integrity is PostgreSQL's own again: the eleven foreign keys that 0016 and 0018 replaced by
-- statement-level triggers are restored under their original names, and the triggers and their functions
-- are gone. A trigger can be switched off by the table's owner (ALTER TABLE … DISABLE TRIGGER USER), is lost
-- in ordering by a data-only restore, and is invisible to tools that read the catalog's constraints; a
-- foreign key is none of these. The bulk record keeps its speed from set-based statements (one INSERT per
-- table), not from skipping checks.
--
-- A grant's running totals no longer infer "written by this statement" from system columns (0015 compared
-- xmin/cmin): a new grant starts with zero totals, and the disbursement trigger adds every new tranche to
-- its grant (Schema/rules/totals.sql).

DROP TRIGGER application_references_exist ON grants.application;
DROP TRIGGER application_partner_references_exist ON grants.application_partner;
DROP TRIGGER application_theme_references_exist ON grants.application_theme;
DROP TRIGGER approval_references_exist ON grants.approval;
DROP TRIGGER grant_references_exist ON grants.grant;
DROP TRIGGER disbursement_references_exist ON grants.disbursement;
DROP FUNCTION grants.application_references_exist();
DROP FUNCTION grants.application_partner_references_exist();
DROP FUNCTION grants.application_theme_references_exist();
DROP FUNCTION grants.approval_references_exist();
DROP FUNCTION grants.grant_references_exist();
DROP FUNCTION grants.disbursement_references_exist();
DROP FUNCTION grants.refuse_missing_reference(text, text, text, text, text);

ALTER TABLE grants.application
    ADD CONSTRAINT application_applicant_id_fkey FOREIGN KEY (applicant_id) REFERENCES grants.organisation (id),
    ADD CONSTRAINT application_round_id_programme_id_fkey
        FOREIGN KEY (round_id, programme_id) REFERENCES grants.allocation_round (id, programme_id);
ALTER TABLE grants.application_partner
    ADD CONSTRAINT application_partner_application_id_fkey FOREIGN KEY (application_id) REFERENCES grants.application (id),
    ADD CONSTRAINT application_partner_organisation_id_fkey FOREIGN KEY (organisation_id) REFERENCES grants.organisation (id);
ALTER TABLE grants.application_theme
    ADD CONSTRAINT application_theme_application_id_fkey FOREIGN KEY (application_id) REFERENCES grants.application (id),
    ADD CONSTRAINT application_theme_theme_code_fkey FOREIGN KEY (theme_code) REFERENCES grants.theme (code);
ALTER TABLE grants.approval
    ADD CONSTRAINT approval_application_id_fkey FOREIGN KEY (application_id) REFERENCES grants.application (id);
ALTER TABLE grants.grant
    ADD CONSTRAINT grant_application_id_fkey FOREIGN KEY (application_id) REFERENCES grants.application (id),
    ADD CONSTRAINT grant_round_id_programme_id_fkey
        FOREIGN KEY (round_id, programme_id) REFERENCES grants.allocation_round (id, programme_id);
ALTER TABLE grants.disbursement
    ADD CONSTRAINT disbursement_grant_id_fkey FOREIGN KEY (grant_id) REFERENCES grants.grant (id),
    ADD CONSTRAINT disbursement_reverses_id_fkey FOREIGN KEY (reverses_id) REFERENCES grants.disbursement (id);
