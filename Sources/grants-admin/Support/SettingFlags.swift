import ArgumentParser
import Grants

/// The programme settings as flags: `programme set` stores them, `report disbursements` puts them over the
/// programme's for one run.
struct SettingFlags: ParsableArguments {
    enum Switch: String, ExpressibleByArgument, CaseIterable { case on, off }

    @Option(name: .customLong("iati-publisher-ref"), parsing: .unconditional, help: "The programme's own organisation identifier (org-id, e.g. SE-ON-4020000008).")
    var iatiPublisherRef: String?
    @Option(name: .customLong("iati-publisher-name"), parsing: .unconditional, help: "The publishing organisation's name.") var iatiPublisherName: String?
    @Option(name: .customLong("iati-publisher-type"), parsing: .unconditional, help: "IATI OrganisationType of the publisher (10, 11, 22 …).")
    var iatiPublisherType: String?
    @Option(name: .customLong("funder-ref"), parsing: .unconditional, help: "The funder's identifier (IATI participating-org role 1, e.g. SE-0).") var funderRef:
        String?
    @Option(name: .customLong("funder-name"), parsing: .unconditional, help: "The funder's name (e.g. Sida).") var funderName: String?
    @Option(name: .customLong("funder-type"), parsing: .unconditional, help: "IATI OrganisationType of the funder (10 = government).")
    var funderType: String?
    @Option(
        name: .customLong("funder-activity-id"), parsing: .unconditional,
        help: "The funder's own IATI activity the programme's money comes from (participating-org/@activity-id).")
    var funderActivityID: String?
    @Option(name: .customLong("giving360-prefix"), parsing: .unconditional, help: "The 360Giving prefix issued to the publisher (360G-…).") var giving360Prefix:
        String?
    @Option(name: .customLong("default-sector"), parsing: .unconditional, help: "DAC 5-digit sector for grants whose themes have none.") var defaultSector: String?
    @Option(name: .customLong("flow-type"), parsing: .unconditional, help: "IATI default-flow-type (10 = ODA).") var flowType: String?
    @Option(name: .customLong("finance-type"), parsing: .unconditional, help: "IATI default-finance-type (110 = standard grant).") var financeType: String?
    @Option(name: .customLong("aid-type"), parsing: .unconditional, help: "IATI default-aid-type (C01 = project-type interventions).") var aidType: String?
    @Option(name: .customLong("collaboration-type"), parsing: .unconditional, help: "IATI collaboration-type (1 = bilateral).") var collaborationType: String?
    @Option(name: .customLong("sie-cost-account"), parsing: .unconditional, help: "SIE: the cost account (default 6993).") var sieCostAccount: String?
    @Option(name: .customLong("sie-bank-account"), parsing: .unconditional, help: "SIE: the bank account (default 1930).") var sieBankAccount: String?
    @Option(name: .customLong("sie-liability-account"), parsing: .unconditional, help: "SIE: the liability account accrued grants are booked on.")
    var sieLiabilityAccount: String?
    @Option(
        name: .customLong("sie-receivable-account"), parsing: .unconditional,
        help: "SIE: the receivable a settlement's claim is booked on (default 1689).")
    var sieReceivableAccount: String?
    @Option(name: .customLong("sie-series"), parsing: .unconditional, help: "SIE: the voucher series (not set: the accounting system numbers vouchers).")
    var sieSeries: String?
    @Option(help: "SIE: book decided grants against the liability account (on) or only payments (off).") var accrual: Switch?

    var settings: ProgrammeSettings {
        var settings = ProgrammeSettings()
        settings.iatiPublisherRef = iatiPublisherRef
        settings.iatiPublisherName = iatiPublisherName
        settings.iatiPublisherType = iatiPublisherType
        settings.funderRef = funderRef
        settings.funderName = funderName
        settings.funderType = funderType
        settings.funderActivityID = funderActivityID
        settings.giving360Prefix = giving360Prefix
        settings.defaultSector = defaultSector
        settings.flowType = flowType
        settings.financeType = financeType
        settings.aidType = aidType
        settings.collaborationType = collaborationType
        settings.sieCostAccount = sieCostAccount
        settings.sieBankAccount = sieBankAccount
        settings.sieLiabilityAccount = sieLiabilityAccount
        settings.sieReceivableAccount = sieReceivableAccount
        settings.sieSeries = sieSeries
        settings.accrual = accrual.map { $0 == .on }
        return settings
    }

    /// Setting names (the library's problem paths) to their flags.
    static let flags: [String: String] = [
        "iati_publisher_ref": "--iati-publisher-ref", "iati_publisher_name": "--iati-publisher-name",
        "iati_publisher_type": "--iati-publisher-type", "funder_ref": "--funder-ref", "funder_name": "--funder-name",
        "giving360_prefix": "--giving360-prefix", "default_sector": "--default-sector", "flow_type": "--flow-type",
        "finance_type": "--finance-type", "aid_type": "--aid-type", "collaboration_type": "--collaboration-type",
        "sie_cost_account": "--sie-cost-account", "sie_bank_account": "--sie-bank-account",
        "sie_liability_account": "--sie-liability-account", "sie_series": "--sie-series", "accrual": "--accrual",
        "sie_receivable_account": "--sie-receivable-account", "funder_type": "--funder-type",
        "funder_activity_id": "--funder-activity-id",
        "from": "--from", "to": "--to", "status": "--status",
    ]
}
