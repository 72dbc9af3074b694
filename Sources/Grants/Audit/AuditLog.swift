import Foundation
import PGClient

/// One append-only record of who changed what, when.
///
/// ```swift
/// for event in try await service.audit.list(entity: "disbursement") {
///     print(event.occurredAt, event.actor, event.action, event.entityKey, event.details)
/// }
/// ```
public struct AuditEvent: Sendable, Codable, Equatable {
    public let id: Int64
    public let occurredAt: Date
    public let actor: String
    public let action: String
    public let entityKind: String
    public let entityKey: String
    /// The event's details as a JSON object text.
    public let details: String
}

/// The audit log: read it here; every write of the library appends to it in its own transaction.
///
/// ```swift
/// let events = try await service.audit.list(since: try CalendarDate("2021-12-01"), entity: "grant")
/// ```
public struct AuditLog: Sendable {
    let service: GrantsService

    public func list(since: CalendarDate? = nil, entity: String? = nil, limit: Int = 10_000) async throws(GrantsError) -> [AuditEvent] {
        try await service.listing("grants.audit.list") { connection in
            try connection.query(
                """
                SELECT id, occurred_at, actor, action, entity_kind, entity_key, details::text AS details
                FROM grants.audit_event
                WHERE (\(since)::date IS NULL OR occurred_at >= \(since)::date)
                  AND (\(entity)::text IS NULL OR entity_kind = \(entity))
                ORDER BY occurred_at, id
                LIMIT \(limit)
                """
            ).map { row in
                AuditEvent(
                    id: try row.decode(column: "id"), occurredAt: try row.decode(column: "occurred_at"),
                    actor: try row.decode(column: "actor"), action: try row.decode(column: "action"),
                    entityKind: try row.decode(column: "entity_kind"), entityKey: try row.decode(column: "entity_key"),
                    details: try row.decode(column: "details"))
            }
        }
    }
}
