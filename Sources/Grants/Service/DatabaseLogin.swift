import PGClient

/// Who the database login is, for the rule that a person's own login acts only as itself (DESIGN §4): a
/// login that is a member of `grants_staff` or `grants_finance` records every write as its own name, and the
/// database refuses another (`GrantsError.actorMismatch(claimed:login:)`); a login granted `grants_service`
/// (an embedding service's pool login), a superuser or the schema's owner states who acts.
///
/// ```swift
/// let login = try await service.databaseLogin()
/// let actor = login.personalActor ?? signedInUser    // a person's own login acts as itself
/// try await service.disbursements.attest(id, actor: actor)
/// ```
public struct DatabaseLogin: Sendable, Equatable {
    /// The role that authenticated (`session_user`).
    public let name: String
    /// The actor every write of a person's own login names (its normalised name); nil for a login that states
    /// the actor.
    public let personalActor: String?

    /// Whether this login states who acts (a service login, a superuser or the schema's owner).
    public var statesActor: Bool { personalActor == nil }
}

extension GrantsService {
    /// The database login of this service's pool, as the database's actor rule sees it.
    public func databaseLogin() async throws(GrantsError) -> DatabaseLogin {
        try await read { connection in
            guard try connection.query("SELECT to_regprocedure('grants.login_actor()') IS NOT NULL")[0].decode(Bool.self, column: 0) else {
                throw GrantsError.schemaMismatch("the database is not migrated: migrate it to this version")
            }
            let row = try connection.query("SELECT session_user::text AS name, grants.login_actor() AS actor")[0]
            return DatabaseLogin(name: try row.decode(column: "name"), personalActor: try row.decode(column: "actor"))
        }
    }
}
