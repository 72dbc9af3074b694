import Foundation
import PGClient

/// A named person at an organisation, or the tombstone left when one was erased (name, email and phone gone;
/// the organisation, role and history stay, so what refers to the contact by id still adds up).
///
/// ```swift
/// for contact in try await service.contacts.list(organisation: "212000-0662") where !contact.erased {
///     print(contact.id, contact.name ?? "", contact.email ?? "")
/// }
/// ```
public struct Contact: Sendable, Encodable, Equatable {
    public let id: Int64
    public let organisation: String
    public let organisationID: Int64
    /// Nil once erased.
    public let name: String?
    public let email: String?
    public let phone: String?
    public let role: String?
    public let addedBy: String
    public let erasedAt: Date?
    public let erasureReason: String?

    public var erased: Bool { erasedAt != nil }
}

/// Contacts: the only personal data besides staff names. Add, list, erase. Audit events name a contact by its
/// id and never copy its name, e-mail or phone, so erasing the row removes them from the database.
///
/// ```swift
/// let karin = try await service.contacts.add(NewContact(organisation: "Växjö kommun", name: "Karin Lund"), actor: "anna")
/// try await service.contacts.erase(karin.id, reason: "Asked to be forgotten (GDPR art. 17)", actor: "anna")
/// ```
public struct Contacts: Sendable {
    let service: GrantsService

    /// Records a contact. The same person (organisation, name, e-mail, phone and role alike) again is a retry
    /// and returns the recorded contact.
    @discardableResult
    public func add(_ new: NewContact, actor: String) async throws -> Contact {
        let actor = try ActorName(actor).value
        guard new.problems.isEmpty else { throw GrantsError.invalidInput(new.problems) }
        return try await service.write { connection in
            let organisation = try Organisations.resolve(connection, key: new.organisation, location: "organisation")
            if let row = try connection.query(
                """
                \(Self.select)
                WHERE c.organisation_id = \(organisation.id) AND c.name = \(new.name) AND c.email IS NOT DISTINCT FROM \(new.email)
                  AND c.phone IS NOT DISTINCT FROM \(new.phone) AND c.role IS NOT DISTINCT FROM \(new.role)
                ORDER BY c.id LIMIT 1
                """
            ).first {
                return try Self.decode(row)
            }
            let id = try connection.query(
                """
                INSERT INTO grants.contact (organisation_id, name, email, phone, role, added_by)
                VALUES (\(organisation.id), \(new.name), \(new.email), \(new.phone), \(new.role), \(actor)) RETURNING id
                """)[0].decode(Int64.self, column: 0)
            // By id only: the audit log is append-only, so personal data in it could never be erased.
            try AuditLog.record(
                connection, actor: actor, action: "contact.added", entity: "contact", key: String(id),
                details: ["organisation": String(organisation.id)])
            return try Self.resolve(connection, id: id)
        }
    }

    /// Contacts, erased ones as tombstones, optionally of one organisation (an ORG key).
    public func list(organisation: String? = nil) async throws -> [Contact] {
        try await service.listing("grants.contacts.list") { connection in
            let organisationID = try organisation.map { try Organisations.resolve(connection, key: $0, location: "organisation").id }
            return try connection.query(
                "\(Self.select) WHERE (\(organisationID)::int8 IS NULL OR c.organisation_id = \(organisationID)) ORDER BY o.name, c.id"
            ).map(Self.decode)
        }
    }

    /// Erases a contact: its name, e-mail and phone are removed and the row stays as a tombstone with who erased
    /// it, when and why. Erasing an erased contact again changes nothing.
    ///
    /// The old values stay in PostgreSQL's data files until VACUUM reclaims the dead row version (autovacuum
    /// does, soon), and in WAL archives and backups for as long as those are kept.
    @discardableResult
    public func erase(_ id: Int64, reason: String, actor: String) async throws -> Contact {
        let actor = try ActorName(actor).value
        if let problem = Limits.text(reason, at: "reason") { throw GrantsError.invalidInput([problem]) }
        return try await service.write { connection in
            guard !(try connection.query("SELECT 1 FROM grants.contact WHERE id = \(id) FOR UPDATE")).isEmpty else {
                throw GrantsError.notFound(entity: "contact", key: String(id))
            }
            let contact = try Self.resolve(connection, id: id)
            if contact.erased { return contact }
            try connection.execute(
                """
                UPDATE grants.contact SET name = NULL, email = NULL, phone = NULL, erased_at = now(), erased_by = \(actor),
                    erasure_reason = \(reason)
                WHERE id = \(id)
                """)
            try AuditLog.record(
                connection, actor: actor, action: "contact.erased", entity: "contact", key: String(id), details: ["reason": reason])
            return try Self.resolve(connection, id: id)
        }
    }

    // MARK: SQL

    static let select: PGQuery = """
        SELECT c.id, o.name AS organisation, c.organisation_id, c.name, c.email, c.phone, c.role, c.added_by, c.erased_at,
               c.erasure_reason
        FROM grants.contact c JOIN grants.organisation o ON o.id = c.organisation_id
        """

    static func decode(_ row: PGRow) throws -> Contact {
        Contact(
            id: try row.decode(column: "id"), organisation: try row.decode(column: "organisation"),
            organisationID: try row.decode(column: "organisation_id"), name: try row.decode(column: "name"),
            email: try row.decode(column: "email"), phone: try row.decode(column: "phone"), role: try row.decode(column: "role"),
            addedBy: try row.decode(column: "added_by"), erasedAt: try row.decode(column: "erased_at"),
            erasureReason: try row.decode(column: "erasure_reason"))
    }

    static func resolve(_ connection: PGConnection, id: Int64) throws -> Contact {
        guard let row = try connection.query("\(select) WHERE c.id = \(id)").first else {
            throw GrantsError.notFound(entity: "contact", key: String(id))
        }
        return try decode(row)
    }
}
