import ArgumentParser
import Foundation
import Grants

/// Options every command that touches the database takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp("PostgreSQL URL (postgres://…); overrides GRANTS_DATABASE_URL and DATABASE_URL.", valueName: "URL"))
    var database: String?

    @Option(
        name: .long,
        parsing: .unconditional,
        help: ArgumentHelp(
            "A hot standby of the database for reports and listings (postgres://…); overrides GRANTS_REPLICA_URL. Writes never go there.",
            valueName: "URL"))
    var replica: String?

    @Option(
        name: .customLong("replica-wait"),
        help: ArgumentHelp(
            "Seconds a read waits for the standby to replay what the primary has before it reads the primary instead (default 3).",
            valueName: "SECONDS"))
    var replicaWait: Double?

    @Flag(
        name: .customLong("allow-stale"),
        help: "When the primary cannot be reached, let reports and listings read the standby; they say how far behind it may be.")
    var allowStale = false

    @Option(
        name: .long,
        parsing: .unconditional,
        help: ArgumentHelp(
            "Who is acting, for the audit log (default $GRANTS_ACTOR, else the database login when it is a person's own, else the login name).",
            valueName: "NAME")
    )
    var actor: String?

    /// Whether the actor is stated (`--actor`, `GRANTS_ACTOR`) rather than taken from a login.
    var statesActor: Bool { actor != nil || !(ProcessInfo.processInfo.environment["GRANTS_ACTOR"] ?? "").isEmpty }

    func validate() throws {
        guard Validation.isOn else { return }
        if let replicaWait, !(0...600).contains(replicaWait) {
            throw ValidationError("--replica-wait must be between 0 and 600 seconds")
        }
    }

    /// The actor recorded in the audit log. A person's own database login acts as itself (the database refuses
    /// any other name), so it comes before the operating system's login name.
    /// Who runs this program on this machine: GRANTS_ACTOR, else the login name.
    var localUser: String {
        if let fromEnvironment = ProcessInfo.processInfo.environment["GRANTS_ACTOR"], !fromEnvironment.isEmpty { return fromEnvironment }
        if let login = getlogin().map({ String(cString: $0) }), !login.isEmpty { return login }
        return ProcessInfo.processInfo.environment["USER"] ?? NSUserName()
    }

    var resolvedActor: String {
        if let actor { return actor }
        if let fromEnvironment = ProcessInfo.processInfo.environment["GRANTS_ACTOR"], !fromEnvironment.isEmpty { return fromEnvironment }
        if let database = Session.personalActor { return database }
        if let login = getlogin().map({ String(cString: $0) }), !login.isEmpty { return login }
        return ProcessInfo.processInfo.environment["USER"] ?? NSUserName()
    }
}

/// `--format text|json` of listing commands.
enum ListFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// `--format` of a listing whose rows a script picks by id: text, json, or ids (bare ids, one a line).
enum IDListFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, ids
}

extension CalendarDate: ExpressibleByArgument {
    public init?(argument: String) {
        guard let date = try? CalendarDate(argument) else { return nil }
        self = date
    }

    public static var defaultCompletionKind: CompletionKind { .default }
}

/// An amount as given on the command line; its currency comes from the round or grant it is for.
struct AmountArgument: ExpressibleByArgument {
    let minorUnits: Int64
    let text: String

    init?(argument: String) {
        guard let value = try? AmountParser.parse(argument) else { return nil }
        minorUnits = value
        text = argument
    }

    func money(_ currency: Currency) -> Money { Money(minorUnits: minorUnits, currency: currency) }

    /// A clear message for the flag, since ArgumentParser only says the value is invalid.
    static func explain(_ text: String) -> String {
        do {
            _ = try AmountParser.parse(text)
            return ""
        } catch {
            return "\(error)"
        }
    }
}

/// A signed amount (`+50 000`, `-10 000`) for amendments.
struct SignedAmountArgument: ExpressibleByArgument {
    let minorUnits: Int64

    init?(argument: String) {
        var text = argument.trimmingCharacters(in: .whitespaces)
        var sign: Int64 = 1
        if text.hasPrefix("+") {
            text.removeFirst()
        } else if text.hasPrefix("-") || text.hasPrefix("−") {
            sign = -1
            text.removeFirst()
        }
        guard let value = try? AmountParser.parse(text) else { return nil }
        minorUnits = sign * value
    }
}

extension DisbursementStatus: ExpressibleByArgument {}
extension ApplicationStatus: ExpressibleByArgument {}
extension Phase: ExpressibleByArgument {}
extension OrganisationKind: ExpressibleByArgument {}
