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
/// settings.iatiPublisherRef = "SE-ON-2021004359"
/// settings.giving360Prefix = "360G-icld"
/// try await service.programmes.set("Kommunala partnerskap", settings: settings, actor: "anna")
/// for programme in try await service.programmes.list() { print(programme.name, programme.currency) }
/// ```
public struct Programmes: Sendable {
    let service: GrantsService

    /// Sets the fields `settings` gives; the others stay as they were. A programme that does not exist yet is
    /// created (currency SEK), so settings can come before its first round. Setting what is already set
    /// changes nothing and records nothing. Invalid values are `GrantsError.invalidInput` with the setting's
    /// name as the path (`sie_cost_account`), and nothing is written.
    @discardableResult
    public func set(_ name: String, settings: ProgrammeSettings, actor: String) async throws -> Programme {
        let actor = try ActorName(actor).value
        var problems = settings.problems()
        if let problem = Limits.text(name, at: "programme") { problems.append(problem) }
        guard problems.isEmpty else { throw GrantsError.invalidInput(problems) }
        return try await service.write { connection in
            let id = try Self.id(connection, name: name, create: true, actor: actor)
            let stored = try Self.settings(connection, programmeID: id, lock: true)
            let merged = stored.overridden(by: settings)
            // Checked again as a whole: the publisher and the funder may have come in separate calls.
            let combined = merged.problems()
            guard combined.isEmpty else { throw GrantsError.invalidInput(combined) }
            if merged != stored {
                try connection.execute(
                    """
                    INSERT INTO grants.programme_settings (programme_id, sie_cost_account, sie_bank_account, sie_liability_account,
                        sie_series, accrual, iati_publisher_ref, iati_publisher_name, iati_publisher_type, funder_ref, funder_name,
                        giving360_prefix, default_sector, flow_type, finance_type, aid_type, collaboration_type, updated_by)
                    VALUES (\(id), \(merged.sieCostAccount), \(merged.sieBankAccount), \(merged.sieLiabilityAccount), \(merged.sieSeries),
                        \(merged.accrual), \(merged.iatiPublisherRef), \(merged.iatiPublisherName), \(merged.iatiPublisherType),
                        \(merged.funderRef), \(merged.funderName), \(merged.giving360Prefix), \(merged.defaultSector), \(merged.flowType),
                        \(merged.financeType), \(merged.aidType), \(merged.collaborationType), \(actor))
                    ON CONFLICT (programme_id) DO UPDATE SET
                        sie_cost_account = EXCLUDED.sie_cost_account, sie_bank_account = EXCLUDED.sie_bank_account,
                        sie_liability_account = EXCLUDED.sie_liability_account, sie_series = EXCLUDED.sie_series,
                        accrual = EXCLUDED.accrual, iati_publisher_ref = EXCLUDED.iati_publisher_ref,
                        iati_publisher_name = EXCLUDED.iati_publisher_name, iati_publisher_type = EXCLUDED.iati_publisher_type,
                        funder_ref = EXCLUDED.funder_ref, funder_name = EXCLUDED.funder_name,
                        giving360_prefix = EXCLUDED.giving360_prefix, default_sector = EXCLUDED.default_sector,
                        flow_type = EXCLUDED.flow_type, finance_type = EXCLUDED.finance_type, aid_type = EXCLUDED.aid_type,
                        collaboration_type = EXCLUDED.collaboration_type, updated_by = EXCLUDED.updated_by, updated_at = now()
                    """)
                var details: [String: String] = [:]
                for field in ProgrammeSettings.fields where stored[keyPath: field.path] != merged[keyPath: field.path] {
                    details[field.name] = "\(stored[keyPath: field.path] ?? "(not set)") → \(merged[keyPath: field.path] ?? "(not set)")"
                }
                if stored.accrual != merged.accrual {
                    details["accrual"] =
                        "\(stored.accrual.map { $0 ? "on" : "off" } ?? "(not set)") → \(merged.accrual.map { $0 ? "on" : "off" } ?? "(not set)")"
                }
                try AuditLog.record(
                    connection, actor: actor, action: "programme.settings_changed", entity: "programme", key: name, details: details)
            }
            return try Self.programme(connection, id: id)
        }
    }

    /// One programme with its settings.
    public func show(_ name: String) async throws -> Programme {
        try await service.read { connection in
            try Self.programme(connection, id: try Self.id(connection, name: name, create: false, actor: ""))
        }
    }

    /// Every programme with its settings, by name.
    public func list() async throws -> [Programme] {
        try await service.listing("grants.programmes.list") { connection in
            try connection.query("\(Self.select) ORDER BY p.name").map(Self.decode)
        }
    }

    // MARK: SQL

    static func id(_ connection: PGConnection, name: String, create: Bool, actor: String) throws -> Int64 {
        if let row = try connection.query("SELECT id FROM grants.programme WHERE name = \(name)").first { return try row.decode(column: 0) }
        guard create else { throw GrantsError.notFound(entity: "programme", key: name) }
        return try Rounds.programme(connection, name: name, currency: .sek, actor: actor)
    }

    /// The stored settings of a programme (all nil when none are stored).
    static func settings(_ connection: PGConnection, programmeID: Int64, lock: Bool = false) throws -> ProgrammeSettings {
        if lock { try connection.execute("SELECT 1 FROM grants.programme WHERE id = \(programmeID) FOR UPDATE") }
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
               s.default_sector, s.flow_type, s.finance_type, s.aid_type, s.collaboration_type, s.updated_by, s.updated_at
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
