/// The earlier event a late correction corrects: the grant's decision, or one of its amendments (by id). A
/// correction of an event inside a closed period is dated in the first open period and names it.
///
/// ```swift
/// try await service.grants.amend("KP-2021-2-01", amountChange: try Money(parsing: "-10 000", currency: .sek),
///                                reason: "Award recorded 10 000 too high", on: .today, corrects: .decision,
///                                actor: "anna")
/// ```
public enum CorrectedEvent: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The grant's decision (the award as approved).
    case decision
    /// The amendment with this id (`grant show` lists them).
    case amendment(Int64)

    /// `decision`, `amendment N`, or an amendment's id alone (`N`).
    public init?(_ text: String) {
        if text == "decision" {
            self = .decision
            return
        }
        let id = text.hasPrefix("amendment ") ? text.dropFirst("amendment ".count) : Substring(text)
        guard !id.isEmpty, id.count <= 18, id.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(id), value > 0
        else { return nil }
        self = .amendment(value)
    }

    /// As the database stores and exports show it (`corrects_event`): `decision` or `amendment N`.
    public var description: String {
        switch self {
        case .decision: "decision"
        case .amendment(let id): "amendment \(id)"
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let event = CorrectedEvent(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an event: \(text)"))
        }
        self = event
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
