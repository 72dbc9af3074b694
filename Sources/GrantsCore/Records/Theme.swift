import Foundation

/// A coded partnership theme, e.g. `citizen-dialogue` (*Medborgardialog*), with an optional DAC sector.
///
/// ```swift
/// try await service.themes.add(
///     Theme(code: "equal-health-care", nameSv: "Jämlik tillgång till hälso- och sjukvård",
///           nameEn: "Equal access to health care", dacSector: "12110"),
///     actor: "anna")
/// ```
public struct Theme: Sendable, Codable, Equatable {
    public let code: String
    public let nameSv: String
    public let nameEn: String
    public let dacSector: String?

    public init(code: String, nameSv: String, nameEn: String, dacSector: String? = nil) {
        self.code = code
        self.nameSv = nameSv
        self.nameEn = nameEn
        self.dacSector = dacSector
    }

    /// Every problem with this theme's fields, located under `prefix`.
    public func problems(at prefix: String) -> [Problem] {
        var problems: [Problem] = []
        // Exports join codes with Limits.joinSeparator, which this pattern keeps out.
        if code.wholeMatch(of: /[a-z0-9][a-z0-9._-]{0,63}/) == nil {
            problems.append(Problem(prefix + "code", "must be 1-64 lower-case letters, digits, '.', '_' or '-'"))
        }
        for (field, value) in [("name_sv", nameSv), ("name_en", nameEn)] {
            if let problem = Limits.text(value, at: prefix + field) { problems.append(problem) }
        }
        if let dacSector, let problem = IATICodelist.sector.problem(dacSector, at: prefix + "dac_sector") {
            problems.append(problem)
        }
        return problems
    }

    package func differences(from recorded: Theme, at prefix: String) -> [Difference] {
        var result: [Difference] = []
        if nameSv != recorded.nameSv { result.append(Difference(prefix + "name_sv", recorded: recorded.nameSv, given: nameSv)) }
        if nameEn != recorded.nameEn { result.append(Difference(prefix + "name_en", recorded: recorded.nameEn, given: nameEn)) }
        if dacSector != recorded.dacSector {
            result.append(Difference(prefix + "dac_sector", recorded: recorded.dacSector ?? "none", given: dacSector ?? "none"))
        }
        return result
    }
}
