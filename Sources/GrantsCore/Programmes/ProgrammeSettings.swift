import Foundation

/// What the finance exports need to know about a programme: SIE accounts and series, whether grants are
/// accrued, the IATI publisher and its funder, default IATI codes and the 360Giving prefix. Every field is
/// optional: `nil` is "not set". Stored per programme (`Programmes.set(_:settings:unset:actor:)` in `Grants`) and
/// overridden for one export by ``ExportOptions/overrides``.
///
/// ```swift
/// var settings = ProgrammeSettings()
/// settings.iatiPublisherRef = "SE-ON-4020000008"      // an example number: use your own organisation's
/// settings.iatiPublisherName = "ICLD"
/// settings.iatiPublisherType = "22"
/// settings.giving360Prefix = "360G-icld"
/// settings.accrual = true
/// settings.sieLiabilityAccount = "2890"
/// #expect(settings.problems().isEmpty)
/// ```
public struct ProgrammeSettings: Sendable, Equatable, Codable {
    /// SIE: the cost account grants are booked on (default BAS 6993 *Lämnade bidrag och gåvor*).
    public var sieCostAccount: String?
    /// SIE: the bank account payments leave from (default BAS 1930).
    public var sieBankAccount: String?
    /// SIE: the class-2 liability decided grants are accrued on (needed when ``accrual`` is on).
    public var sieLiabilityAccount: String?
    /// SIE: the voucher series; not set lets the accounting system number vouchers.
    public var sieSeries: String?
    /// SIE: book a decided grant as a cost against the liability on its decision date, and payments against the
    /// liability (default off: payments are booked as the cost).
    public var accrual: Bool?
    /// The programme's own organisation identifier (org-id, e.g. `SE-ON-4020000008`, an example): IATI `reporting-org`, the
    /// prefix of every `iati-identifier`, and the 360Giving funding organisation.
    public var iatiPublisherRef: String?
    public var iatiPublisherName: String?
    /// IATI OrganisationType of the publisher (10 government, 11 local government, 22 national NGO …).
    public var iatiPublisherType: String?
    /// The organisation financing the programme (Sida, `SE-0`): IATI `participating-org role="1"`.
    public var funderRef: String?
    public var funderName: String?
    /// The 360Giving prefix issued to the publisher (`360G-…`): grant ids are `<prefix>-<grant reference>`.
    public var giving360Prefix: String?
    /// The DAC 5-digit sector of a grant whose themes have none.
    public var defaultSector: String?
    /// IATI `default-flow-type`, `default-finance-type`, `default-aid-type` and `collaboration-type`.
    public var flowType: String?
    public var financeType: String?
    public var aidType: String?
    public var collaborationType: String?
    /// SIE: the receivable a settlement's claim is booked on until it is repaid or written off (default BAS 1689
    /// *Övriga kortfristiga fordringar*).
    public var sieReceivableAccount: String?
    /// The funder's own IATI activity identifier the programme's money comes from (`participating-org
    /// role="1"/@activity-id`), so the money can be traced upwards.
    public var funderActivityID: String?
    /// IATI OrganisationType of the funder (`participating-org role="1"/@type`; 10 government …).
    public var funderType: String?
    /// Payment files: the programme's own name as the payer (ISO 20022 `Dbtr/Nm`, at most 70 characters).
    public var debtorName: String?
    /// Payment files: the account the programme pays from, an IBAN with its bank's BIC …
    public var debtorIBAN: String?
    public var debtorBIC: String?
    /// … or a Bankgiro number (one of the two).
    public var debtorBankgiro: String?

    public init() {}

    /// The fields by the names the settings have everywhere outside Swift (SQL columns, JSON keys, problem paths).
    package static var fields: [(name: String, path: WritableKeyPath<ProgrammeSettings, String?>)] {
        [
            ("sie_cost_account", \.sieCostAccount), ("sie_bank_account", \.sieBankAccount),
            ("sie_liability_account", \.sieLiabilityAccount), ("sie_series", \.sieSeries),
            ("iati_publisher_ref", \.iatiPublisherRef), ("iati_publisher_name", \.iatiPublisherName),
            ("iati_publisher_type", \.iatiPublisherType), ("funder_ref", \.funderRef), ("funder_name", \.funderName),
            ("giving360_prefix", \.giving360Prefix), ("default_sector", \.defaultSector), ("flow_type", \.flowType),
            ("finance_type", \.financeType), ("aid_type", \.aidType), ("collaboration_type", \.collaborationType),
            ("sie_receivable_account", \.sieReceivableAccount), ("funder_activity_id", \.funderActivityID),
            ("funder_type", \.funderType), ("debtor_name", \.debtorName), ("debtor_iban", \.debtorIBAN),
            ("debtor_bic", \.debtorBIC), ("debtor_bankgiro", \.debtorBankgiro),
        ]
    }

    /// Every setting's name, `accrual` included: what `Programmes.set(_:settings:unset:actor:)` can unset.
    public static var names: Set<String> { Set(fields.map(\.name) + ["accrual"]) }

    /// These settings with every field `other` sets put over them.
    public func overridden(by other: ProgrammeSettings) -> ProgrammeSettings {
        var merged = self
        for field in Self.fields where other[keyPath: field.path] != nil { merged[keyPath: field.path] = other[keyPath: field.path] }
        if let accrual = other.accrual { merged.accrual = accrual }
        return merged
    }

    /// True when no field is set.
    public var isEmpty: Bool { self == ProgrammeSettings() }

    /// Every field that is set and not valid, under its name (`sie_cost_account`, `flow_type` …).
    public func problems() -> [Problem] {
        var problems: [Problem] = []
        func check(_ name: String, _ value: String?, _ valid: (String) -> Bool, _ what: String) {
            guard let value, !valid(value) else { return }
            // A control character is named, never echoed: an escape sequence would reach the terminal.
            if let control = Limits.controlCharacterProblem(value, at: name) { return problems.append(control) }
            problems.append(Problem(name, "\"\(value.prefix(40))\" is not \(what)"))
        }
        let account = { (value: String) in value.wholeMatch(of: /[0-9]{4}/) != nil }
        check("sie_cost_account", sieCostAccount, account, "an account number (4 digits)")
        check("sie_bank_account", sieBankAccount, account, "an account number (4 digits)")
        check("sie_liability_account", sieLiabilityAccount, account, "an account number (4 digits)")
        check("sie_receivable_account", sieReceivableAccount, account, "an account number (4 digits)")
        check("sie_series", sieSeries, { $0.wholeMatch(of: /[A-Za-z0-9]{1,10}/) != nil }, "a voucher series (1 to 10 letters or digits)")
        let orgID = { (value: String) in value.count <= 100 && value.wholeMatch(of: /[A-Z]{2}-([A-Za-z0-9._-]*[A-Za-z0-9])?/) != nil }
        check("iati_publisher_ref", iatiPublisherRef, orgID, "an organisation identifier (org-id such as SE-ON-4020000008)")
        check("funder_ref", funderRef, orgID, "an organisation identifier (org-id such as SE-0)")
        // An SE-ON- identifier names a Swedish organisation by its organisationsnummer, which must be one.
        for (name, value) in [("iati_publisher_ref", iatiPublisherRef), ("funder_ref", funderRef)] {
            guard let value, orgID(value) else { continue }
            do throws(GrantsError) {
                _ = try OrganisationNumber(organisationID: value)
            } catch {
                problems.append(Problem(name, "\"\(value.prefix(40))\" is not an organisation identifier: \(error)"))
            }
        }
        let name = { (value: String) in Limits.text(value, at: "") == nil && !value.trimmingCharacters(in: .whitespaces).isEmpty }
        check("iati_publisher_name", iatiPublisherName, name, "a name (1 to 1000 characters)")
        check("funder_name", funderName, name, "a name (1 to 1000 characters)")
        check("iati_publisher_type", iatiPublisherType, IATICodes.organisationType.contains, "an IATI OrganisationType code")
        check("funder_type", funderType, IATICodes.organisationType.contains, "an IATI OrganisationType code")
        check(
            "funder_activity_id", funderActivityID,
            { $0.count <= 200 && $0.wholeMatch(of: /[A-Z]{2}-[A-Za-z0-9._:-]*[A-Za-z0-9]/) != nil },
            "an IATI activity identifier (the funder's org-id, '-', its own id: letters, digits, . _ : -)")
        check(
            "giving360_prefix", giving360Prefix, { $0.wholeMatch(of: /360G-[A-Za-z0-9][A-Za-z0-9_-]{0,49}/) != nil },
            "a 360Giving prefix (360G-…)")
        check("default_sector", defaultSector, IATICodes.isSectorForm, "a DAC 5-digit sector code")
        check("flow_type", flowType, IATICodes.flowType.contains, "an IATI FlowType code")
        check("finance_type", financeType, IATICodes.financeType.contains, "an IATI FinanceType code")
        check("aid_type", aidType, IATICodes.aidType.contains, "an IATI AidType code")
        check("collaboration_type", collaborationType, IATICodes.collaborationType.contains, "an IATI CollaborationType code")
        check("debtor_name", debtorName, { name($0) && $0.count <= 70 }, "a name of 1 to 70 characters (ISO 20022 Max70Text)")
        check("debtor_iban", debtorIBAN, IBAN.isValid, "an IBAN (ISO 13616: the country's length, check digits mod 97)")
        check("debtor_bic", debtorBIC, BIC.isValid, "a BIC (ISO 9362: 8 or 11 letters and digits)")
        check("debtor_bankgiro", debtorBankgiro, BankgiroNumber.isValid, "a Bankgiro number (7 or 8 digits with a Luhn check digit)")
        if let publisher = iatiPublisherRef, publisher == funderRef {
            problems.append(Problem("iati_publisher_ref", "is the funder's identifier: a programme publishes under its own"))
        }
        return problems
    }

    enum CodingKeys: String, CodingKey {
        case sieCostAccount = "sie_cost_account"
        case sieBankAccount = "sie_bank_account"
        case sieLiabilityAccount = "sie_liability_account"
        case sieSeries = "sie_series"
        case accrual
        case iatiPublisherRef = "iati_publisher_ref"
        case iatiPublisherName = "iati_publisher_name"
        case iatiPublisherType = "iati_publisher_type"
        case funderRef = "funder_ref"
        case funderName = "funder_name"
        case giving360Prefix = "giving360_prefix"
        case defaultSector = "default_sector"
        case flowType = "flow_type"
        case financeType = "finance_type"
        case aidType = "aid_type"
        case collaborationType = "collaboration_type"
        case sieReceivableAccount = "sie_receivable_account"
        case funderActivityID = "funder_activity_id"
        case funderType = "funder_type"
        case debtorName = "debtor_name"
        case debtorIBAN = "debtor_iban"
        case debtorBIC = "debtor_bic"
        case debtorBankgiro = "debtor_bankgiro"
    }
}

extension ProgrammeSettings {
    /// SIE cost account: the setting, else BAS 6993.
    package var costAccount: String { sieCostAccount ?? "6993" }
    /// SIE bank account: the setting, else BAS 1930.
    package var bankAccount: String { sieBankAccount ?? "1930" }
    /// SIE receivable account for settlement claims: the setting, else BAS 1689.
    package var receivableAccount: String { sieReceivableAccount ?? "1689" }
    package var accrues: Bool { accrual ?? false }

    /// What an export in `format` needs, checked before anything is written: every missing setting at once.
    package func missing(for format: DisbursementFormat, programme: String) -> [Problem] {
        let needed: [WritableKeyPath<ProgrammeSettings, String?>] =
            switch format {
            case .csv, .csvExcel, .json, .xlsx: []
            case .sie: accrues ? [\.iatiPublisherName, \.sieLiabilityAccount] : [\.iatiPublisherName]
            case .iati: [\.iatiPublisherRef, \.iatiPublisherName, \.iatiPublisherType, \.funderRef, \.funderName]
            case .giving360: [\.giving360Prefix, \.iatiPublisherRef, \.iatiPublisherName]
            }
        return needed.compactMap { field in
            guard self[keyPath: field] == nil, let name = Self.fields.first(where: { $0.path == field })?.name else { return nil }
            return Problem(name, "is not set for programme \(programme), and the \(format.rawValue) export needs it")
        }
    }

    /// `SE-ON-2120000142` → `212000-0142` (SIE `#ORGNR`); nil for identifiers of other registers.
    package var publisherOrgNumber: String? {
        guard let ref = iatiPublisherRef, ref.hasPrefix("SE-ON-") else { return nil }
        let digits = ref.dropFirst(6)
        guard digits.count == 10, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return "\(digits.prefix(6))-\(digits.suffix(4))"
    }
}
