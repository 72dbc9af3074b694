import Foundation

/// What a payment file says: the message, the payer and every transfer, as stored with a payment batch, so the
/// same batch gives the same bytes every time (`Pain001Writer`, in GrantsExports).
///
/// ```swift
/// let file = PaymentFile(
///     messageID: "GRANTS-B1-20240115093000", createdAt: Date(timeIntervalSince1970: 1_705_311_000),
///     debtorName: "ICLD", debtorAccount: try PaymentAccount(kind: "bankgiro", number: "5050-1055"),
///     transfers: [])
/// let xml = try Pain001Writer.document(file)
/// ```
public struct PaymentFile: Sendable, Equatable {
    /// One credit transfer: a tranche to its payee.
    public struct Transfer: Sendable, Equatable {
        /// Identifies the tranche for life (ISO 20022 `EndToEndId`, at most 35 characters).
        public var endToEndID: String
        public var amount: Money
        public var executionDate: CalendarDate
        public var creditorName: String
        public var creditorAccount: PaymentAccount
        /// Unstructured remittance information (`Ustrd`, at most 140 characters): the grant and its tranche.
        public var remittance: String

        public init(
            endToEndID: String, amount: Money, executionDate: CalendarDate, creditorName: String, creditorAccount: PaymentAccount,
            remittance: String
        ) {
            self.endToEndID = endToEndID
            self.amount = amount
            self.executionDate = executionDate
            self.creditorName = creditorName
            self.creditorAccount = creditorAccount
            self.remittance = remittance
        }
    }

    public var messageID: String
    public var createdAt: Date
    public var debtorName: String
    /// The programme's own account: an IBAN (with its bank's BIC) or a Bankgiro number.
    public var debtorAccount: PaymentAccount
    public var transfers: [Transfer]

    public init(messageID: String, createdAt: Date, debtorName: String, debtorAccount: PaymentAccount, transfers: [Transfer]) {
        self.messageID = messageID
        self.createdAt = createdAt
        self.debtorName = debtorName
        self.debtorAccount = debtorAccount
        self.transfers = transfers
    }
}
