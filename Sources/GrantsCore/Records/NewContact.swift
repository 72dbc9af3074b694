/// A named person at an organisation, as staff record them. Contacts are the only personal data the library
/// keeps besides staff names; `Contacts.erase(_:reason:actor:)` in `Grants` removes them.
///
/// ```swift
/// let contact = NewContact(organisation: "212000-0662", name: "Karin Lund", email: "karin.lund@vaxjo.se", role: "Coordinator")
/// let recorded = try await service.contacts.add(contact, actor: "anna")
/// ```
public struct NewContact: Sendable, Equatable {
    /// An ORG key: an organisationsnummer or the exact name of a recorded organisation.
    public var organisation: String
    public var name: String
    public var email: String?
    public var phone: String?
    public var role: String?

    public init(organisation: String, name: String, email: String? = nil, phone: String? = nil, role: String? = nil) {
        self.organisation = organisation
        self.name = name
        self.email = email
        self.phone = phone
        self.role = role
    }

    /// Every problem with the values, each at its domain path (`name`, `email`, `phone`, `role`).
    public var problems: [Problem] {
        var problems: [Problem] = []
        if let problem = Limits.text(name, at: "name") { problems.append(problem) }
        if let problem = Limits.text(role, at: "role", required: false) { problems.append(problem) }
        if let email {
            let parts = email.split(separator: "@", omittingEmptySubsequences: false)
            if email.count > 320 || parts.count != 2 || parts[0].isEmpty || parts[1].isEmpty
                || email.contains(where: { $0.isWhitespace || $0.isNewline })
            {
                problems.append(Problem("email", "is not an e-mail address (name@domain)"))
            }
        }
        if let phone {
            let allowed = Set("0123456789 +-()")
            if phone.isEmpty || phone.count > 64 || !phone.allSatisfy(allowed.contains) || !phone.contains(where: \.isNumber) {
                problems.append(Problem("phone", "is not a phone number (digits, spaces, + - and parentheses)"))
            }
        }
        return problems
    }
}
