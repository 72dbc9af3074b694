import Foundation

/// What it takes to submit an application. Organisations are named as ORG keys: an organisationsnummer
/// or an exact name of a recorded organisation.
///
/// ```swift
/// let new = NewApplication(
///     round: "2023:1", reference: "KP-2023-1-01", title: "Medborgardialog Stockholm–Kisumu",
///     applicant: "212000-0142", partners: ["Kisumu County"], themes: ["citizen-dialogue"],
///     requested: try Money(parsing: "600 000", currency: .sek),
///     startsOn: try CalendarDate("2023-09-01"), endsOn: try CalendarDate("2025-08-31"))
/// let application = try await service.applications.submit(new, actor: "anna")
/// ```
public struct NewApplication: Sendable, Equatable {
    public var round: String
    public var programme: String?
    public var reference: String
    public var title: String?
    public var applicant: String
    public var partners: [String]
    public var themes: [String]
    public var phase: Phase
    public var requested: Money
    public var startsOn: CalendarDate
    public var endsOn: CalendarDate
    /// The reference of the earlier grant, to the same applicant, whose partnership this application continues.
    public var continues: String?

    public init(
        round: String, programme: String? = nil, reference: String, title: String? = nil, applicant: String,
        partners: [String], themes: [String], phase: Phase = .project, requested: Money, startsOn: CalendarDate,
        endsOn: CalendarDate, continues: String? = nil
    ) {
        self.round = round
        self.programme = programme
        self.reference = reference
        self.title = title
        self.applicant = applicant
        self.partners = partners
        self.themes = themes
        self.phase = phase
        self.requested = requested
        self.startsOn = startsOn
        self.endsOn = endsOn
        self.continues = continues
    }

    public var problems: [Problem] {
        var problems: [Problem] = []
        if let problem = referenceProblem(reference, at: "reference") { problems.append(problem) }
        if let problem = Limits.text(title, at: "title", required: false) { problems.append(problem) }
        if partners.isEmpty { problems.append(Problem("partners", "at least one partner organisation is required")) }
        if themes.isEmpty { problems.append(Problem("themes", "at least one theme is required")) }
        if endsOn < startsOn { problems.append(Problem("period.end", "\(endsOn) is before the start \(startsOn)")) }
        if let continues {
            if let problem = referenceProblem(continues, at: "continues") { problems.append(problem) }
            if continues == reference { problems.append(Problem("continues", "an application cannot continue itself")) }
        }
        return problems
    }
}

package func referenceProblem(_ reference: String, at location: String) -> Problem? {
    // Blank, or white space at either end, is what trimming would find; checked on the two end scalars alone, and
    // the character count taken only when the UTF-8 length (an upper bound) is past the limit.
    let scalars = reference.unicodeScalars
    if scalars.first.map(CharacterSet.whitespaces.contains) ?? true || scalars.last.map(CharacterSet.whitespaces.contains) ?? true
        || (reference.utf8.count > Limits.referenceLength && reference.count > Limits.referenceLength)
    {
        return Problem(location, "a reference is 1 to \(Limits.referenceLength) characters without leading or trailing spaces")
    }
    if reference.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
        return Problem(location, "a reference cannot hold control characters")
    }
    return nil
}
