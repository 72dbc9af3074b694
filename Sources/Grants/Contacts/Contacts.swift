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
    public func add(_ new: NewContact, actor: String) async throws(GrantsError) -> Contact {
        let actor = try ActorName(actor).value
        guard new.problems.isEmpty else { throw GrantsError.invalidInput(new.problems) }
        return try await service.writeOneStatement("grants.contacts.add") { connection in
            try Self.one(
                connection.query(
                    Self.select(
                        from: """
                            grants_api.add_contact(\(new.organisation)::text, \(new.name)::text, \(new.email)::text,
                                \(new.phone)::text, \(new.role)::text, \(actor)::text)
                            """)))
        }
    }

    /// Contacts, erased ones as tombstones, optionally of one organisation (an ORG key).
    public func list(organisation: String? = nil) async throws(GrantsError) -> [Contact] {
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
    public func erase(_ id: Int64, reason: String, actor: String) async throws(GrantsError) -> Contact {
        let actor = try ActorName(actor).value
        if let problem = Limits.text(reason, at: "reason") { throw GrantsError.invalidInput([problem]) }
        return try await service.writeOneStatement("grants.contacts.erase") { connection in
            try Self.one(
                connection.query(Self.select(from: "grants_api.erase_contact(\(id)::int8, \(reason)::text, \(actor)::text)")))
        }
    }

    // MARK: SQL

    static let select: PGQuery = """
        SELECT c.id, o.name AS organisation, c.organisation_id, c.name, c.email, c.phone, c.role, c.added_by, c.erased_at,
               c.erasure_reason
        FROM grants.contact c JOIN grants.organisation o ON o.id = c.organisation_id
        """

    /// `select` over the rows a `grants_api` function returns (`SETOF grants.contact`).
    static func select(from function: PGQuery) -> PGQuery {
        """
        SELECT c.id, o.name AS organisation, c.organisation_id, c.name, c.email, c.phone, c.role, c.added_by, c.erased_at,
               c.erasure_reason
        FROM \(function) c JOIN grants.organisation o ON o.id = c.organisation_id
        """
    }

    static func one(_ rows: PGResult) throws -> Contact {
        guard let row = rows.first else { throw GrantsError.internalError(sqlState: nil, message: "the contact function returned no row") }
        return try decode(row)
    }

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
