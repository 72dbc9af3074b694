// The fixed kinds a record names: not state machines, only the values a column may hold.

/// What a grantee reports: an interim report during the grant, or the final one after it.
///
/// ```swift
/// let finals = try await service.requirements.list(RequirementFilter(round: "2021:2")).filter { $0.kind == .final }
/// ```
public enum ReportKind: String, Sendable, Codable, CaseIterable {
    case interim, final
}

/// Inception (a short preparatory phase) or project.
///
/// ```swift
/// let inception = manifest.grants.filter { $0.phase == .inception }
/// ```
public enum Phase: String, Sendable, Codable, CaseIterable {
    case inception, project
}

/// A Swedish municipality (*kommun*), a region, or any other organisation (most partners abroad).
///
/// ```swift
/// NewOrganisation(name: "Region Gotland", country: "SE", kind: .region)
/// ```
public enum OrganisationKind: String, Sendable, Codable, CaseIterable {
    case municipality, region, other
}
