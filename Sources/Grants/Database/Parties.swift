import PGClient

/// The parties of an application or grant — the applicant (`o`), its partners in order (`pa`) and its theme
/// codes (`th`) — written once for every query whose application is `a`: applications, grants, disbursement
/// report rows and open-data activities.
enum Parties {
    /// The applicant and partner columns (`o`, `pa`) and theme codes (`th`) that applications and grants
    /// both show, read through ``joins``.
    static let columns: PGQuery = """
        o.id AS applicant_id, o.name AS applicant_name, o.country AS applicant_country,
        o.org_number AS applicant_org_number, o.municipality_code AS applicant_code, o.kind AS applicant_kind,
        pa.ids AS partner_ids, pa.names AS partner_names, pa.countries AS partner_countries,
        pa.numbers AS partner_numbers, pa.codes AS partner_codes, pa.kinds AS partner_kinds,
        coalesce(th.codes, '{}') AS themes
        """

    /// The joins behind ``columns``, for a query whose application is `a`.
    static let joins: PGQuery = """
        JOIN grants.organisation o ON o.id = a.applicant_id
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
        ) th ON true
        """
}
