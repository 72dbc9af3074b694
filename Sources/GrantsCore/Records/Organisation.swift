import Foundation

/// A Swedish municipality or region (with its organisationsnummer) or a partner organisation abroad.
///
/// ```swift
/// let vaxjo = try await service.organisations.find("212000-0662")
/// print(vaxjo.name, vaxjo.kind, vaxjo.orgNumber?.description ?? "")
/// ```
public struct Organisation: Sendable, Codable, Equatable {
    public let id: Int64
    public let name: String
    /// ISO 3166-1 alpha-2.
    public let country: String
    public let orgNumber: OrganisationNumber?
    /// *Kommunkod* (4 digits) or *länskod* (2 digits).
    public let municipalityCode: String?
    public let kind: OrganisationKind

    package init(
        id: Int64, name: String, country: String, orgNumber: OrganisationNumber?, municipalityCode: String?, kind: OrganisationKind
    ) {
        self.id = id
        self.name = name
        self.country = country
        self.orgNumber = orgNumber
        self.municipalityCode = municipalityCode
        self.kind = kind
    }
}

/// What it takes to record an organisation.
///
/// ```swift
/// try await service.organisations.add(
///     NewOrganisation(name: "Stockholms stad", country: "SE", orgNumber: try OrganisationNumber("212000-0142"), kind: .municipality),
///     actor: "anna")
/// try await service.organisations.add(NewOrganisation(name: "Kisumu County", country: "KE", kind: .region), actor: "anna")
/// ```
public struct NewOrganisation: Sendable, Equatable, Hashable {
    public var name: String
    public var country: String
    public var orgNumber: OrganisationNumber?
    public var municipalityCode: String?
    public var kind: OrganisationKind

    public init(
        name: String, country: String, orgNumber: OrganisationNumber? = nil, municipalityCode: String? = nil,
        kind: OrganisationKind = .other
    ) {
        self.name = name
        self.country = country
        self.orgNumber = orgNumber
        self.municipalityCode = municipalityCode
        self.kind = kind
    }

    public func problems(at prefix: String) -> [Problem] {
        var problems: [Problem] = []
        // One identity (DESIGN §4): the name must normalise (OrganisationName, as grants.organisation_name).
        if case .failure(let refusal) = OrganisationName.normalise(name) { problems.append(Problem(prefix + "name", refusal.message)) }
        if let problem = IATICodelist.country.problem(country, at: prefix + "country") { problems.append(problem) }
        if orgNumber != nil && country != "SE" {
            problems.append(Problem(prefix + "org_number", "an organisationsnummer belongs to a Swedish organisation (country SE)"))
        }
        if let code = municipalityCode, !((code.utf8.count == 2 || code.utf8.count == 4) && code.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }) {
            problems.append(Problem(prefix + "municipality_code", "must be a 4-digit kommunkod or a 2-digit länskod"))
        }
        return problems
    }

    /// The name in its one form (``OrganisationName``); the name as given when it is refused (see ``problems(at:)``).
    public var normalisedName: String { (try? OrganisationName(name).value) ?? name }

    /// The key two organisations of a country are one by: the normalised name lower-cased.
    public var nameKey: String { OrganisationName.lower(normalisedName) }
}
