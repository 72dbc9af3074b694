import Foundation
import PGClient

/// A funding programme with its currency and the settings its finance exports use.
///
/// ```swift
/// let programme = try await service.programmes.show("Kommunala partnerskap")
/// print(programme.settings.iatiPublisherRef ?? "no IATI publisher yet")
/// ```
public struct Programme: Sendable, Encodable, Equatable {
    public let name: String
    public let currency: Currency
    public let settings: ProgrammeSettings
    /// Who last changed the settings, and when; nil while none are set.
    public let settingsUpdatedBy: String?
    public let settingsUpdatedAt: Date?
}

/// Programmes and their settings (`ProgrammeSettings`): SIE accounts, accrual, the IATI publisher, its funder,
/// default IATI codes and the 360Giving prefix. Every change is checked at the door and audited.
///
/// ```swift
/// var settings = ProgrammeSettings()
/// settings.iatiPublisherRef = "SE-ON-4020000008"
/// settings.giving360Prefix = "360G-icld"
/// try await service.programmes.set("Kommunala partnerskap", settings: settings, actor: "anna")
/// for programme in try await service.programmes.list() { print(programme.name, programme.currency) }
/// ```
public struct Programmes: Sendable {
    let service: GrantsService

    /// Sets the fields `settings` gives and unsets the fields `unset` names (by the settings' names:
    /// `debtor_bankgiro`, `accrual`, see `ProgrammeSettings.names`); the others stay as they were. A programme
    /// that does not exist yet is created (currency SEK), so settings can come before its first round. Setting
    /// what is already set, or unsetting what is not set, changes nothing and records nothing. Invalid values, an
    /// unknown name, or a field both given and unset are `GrantsError.invalidInput` with the setting's name as the
    /// path (`sie_cost_account`), and nothing is written.
    ///
    /// ```swift
    /// var settings = ProgrammeSettings()
    /// settings.debtorBankgiro = "5050-1055"      // from now on the programme pays from its Bankgiro number …
    /// try await service.programmes.set(
    ///     "Kommunala partnerskap", settings: settings, unset: ["debtor_iban", "debtor_bic"], actor: "anna")   // … not its IBAN
    /// ```
    @discardableResult
    public func set(
        _ name: String, settings: ProgrammeSettings, unset: Set<String> = [], actor: String
    ) async throws(GrantsError) -> Programme {
        let actor = try ActorName(actor).value
        var problems = settings.problems()
        if let problem = Limits.text(name, at: "programme") { problems.append(problem) }
        // The fields given, as grants_api.set_programme_settings takes them (a key left out stays as it was, a key
        // given as null is unset).
        var given: [String: Any] = [:]
        for field in ProgrammeSettings.fields { if let value = settings[keyPath: field.path] { given[field.name] = value } }
        if let accrual = settings.accrual { given["accrual"] = accrual }
        for field in unset.sorted() {
            if !ProgrammeSettings.names.contains(field) {
                problems.append(
                    Limits.controlCharacterProblem(field, at: "unset")
                        ?? Problem("unset", "\"\(field.prefix(40))\" is not a programme setting"))
            } else if given[field] != nil {
                problems.append(Problem(field, "is both given and unset"))
            } else {
                given[field] = NSNull()
            }
        }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        let json: String
        do {
            json = String(decoding: try JSONSerialization.data(withJSONObject: given, options: [.sortedKeys]), as: UTF8.self)
        } catch {
            throw GrantsError.internalError(sqlState: nil, message: "the settings cannot be written as JSON: \(error)")
        }
        return try await service.writeOneStatement("grants.programmes.set") { connection in
            guard
                let row = try connection.query(
                    """
                    SELECT programme AS name, *
                    FROM grants_api.set_programme_settings(\(name)::text, \(json)::jsonb, \(actor)::text)
                    """
                ).first
            else { throw GrantsError.internalError(sqlState: nil, message: "grants_api.set_programme_settings returned no row") }
            return try Self.decode(row)
        }
    }

    /// One programme with its settings.
    public func show(_ name: String) async throws(GrantsError) -> Programme {
        try await service.read { connection in
            try Self.programme(connection, id: try Self.id(connection, name: name, create: false, actor: ""))
        }
    }

    /// Every programme with its settings, by name.
    public func list() async throws(GrantsError) -> [Programme] {
        try await service.listing("grants.programmes.list") { connection in
            try connection.query("\(Self.select) ORDER BY p.name").map(Self.decode)
        }
    }

    // MARK: SQL

    static func id(_ connection: PGConnection, name: String, create: Bool, actor: String) throws -> Int64 {
        if let row = try connection.query("SELECT id FROM grants.programme WHERE name = \(name)").first { return try row.decode(column: 0) }
        throw GrantsError.notFound(entity: "programme", key: name)
    }

    /// The stored settings of a programme (all nil when none are stored).
    static func settings(_ connection: PGConnection, programmeID: Int64) throws -> ProgrammeSettings {
        return try connection.query("\(select) WHERE p.id = \(programmeID)").first.map { try decode($0).settings } ?? ProgrammeSettings()
    }

    static func programme(_ connection: PGConnection, id: Int64) throws -> Programme {
        guard let row = try connection.query("\(select) WHERE p.id = \(id)").first else {
            throw GrantsError.notFound(entity: "programme", key: String(id))
        }
        return try decode(row)
    }

    static let select: PGQuery = """
        SELECT p.name, p.currency, s.sie_cost_account, s.sie_bank_account, s.sie_liability_account, s.sie_series, s.accrual,
               s.iati_publisher_ref, s.iati_publisher_name, s.iati_publisher_type, s.funder_ref, s.funder_name, s.giving360_prefix,
               s.default_sector, s.flow_type, s.finance_type, s.aid_type, s.collaboration_type, s.sie_receivable_account,
               s.funder_activity_id, s.funder_type, s.debtor_name, s.debtor_iban, s.debtor_bic, s.debtor_bankgiro,
               s.updated_by, s.updated_at
        FROM grants.programme p LEFT JOIN grants.programme_settings s ON s.programme_id = p.id
        """

    static func decode(_ row: PGRow) throws -> Programme {
        var settings = ProgrammeSettings()
        for field in ProgrammeSettings.fields { settings[keyPath: field.path] = try row.decode(String?.self, column: field.name) }
        settings.accrual = try row.decode(column: "accrual")
        return Programme(
            name: try row.decode(column: "name"), currency: try row.decode(column: "currency"), settings: settings,
            settingsUpdatedBy: try row.decode(column: "updated_by"), settingsUpdatedAt: try row.decode(column: "updated_at"))
    }
}
