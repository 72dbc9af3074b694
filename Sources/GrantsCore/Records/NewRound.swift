import Foundation

/// What it takes to open a round.
///
/// ```swift
/// let round = try await service.rounds.create(
///     NewRound(programme: "Kommunala partnerskap", name: "2023:1", budget: try Money(parsing: "12 000 000", currency: .sek)),
///     actor: "anna")
/// ```
public struct NewRound: Sendable, Equatable {
    public var programme: String
    public var name: String
    public var budget: Money
    public var opensOn: CalendarDate?
    public var closesOn: CalendarDate?
    public var decidedOn: CalendarDate?

    public init(
        programme: String, name: String, budget: Money, opensOn: CalendarDate? = nil, closesOn: CalendarDate? = nil,
        decidedOn: CalendarDate? = nil
    ) {
        self.programme = programme
        self.name = name
        self.budget = budget
        self.opensOn = opensOn
        self.closesOn = closesOn
        self.decidedOn = decidedOn
    }

    public func problems(at prefix: String) -> [Problem] {
        var problems: [Problem] = []
        if let problem = Limits.text(programme, at: "programme") { problems.append(problem) }
        if let problem = Limits.text(name, at: prefix + "name") { problems.append(problem) }
        if budget.minorUnits <= 0 { problems.append(Problem(prefix + "budget", "must be positive")) }
        if !budget.currency.isActive { problems.append(Problem(prefix + "currency", Currency.problem(budget.currency.rawValue))) }
        if let opensOn, let closesOn, closesOn < opensOn {
            problems.append(Problem(prefix + "closes_on", "\(closesOn) is before opens_on \(opensOn)"))
        }
        if let problem = decidedOn?.notInTheFuture(at: prefix + "decided_on") { problems.append(problem) }
        return problems
    }
}
