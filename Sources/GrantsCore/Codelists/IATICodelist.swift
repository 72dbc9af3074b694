import Foundation

/// An IATI codelist the library checks codes against: `Country` (ISO 3166-1 alpha-2 as IATI has it) and
/// `Sector` (OECD DAC 5-digit purpose codes, vocabulary 1). The lists are the official XML files in
/// `Codelists/iati/`, compiled into the library by `Scripts/embed-codelists`, so an installed program carries
/// them. An item IATI marks `status="withdrawn"` is known but refused for new data.
///
/// ```swift
/// IATICodelist.country["KE"]?.name                       // "Kenya"
/// IATICodelist.country.problem("XX", at: "country")        // Problem: not in IATI's Country codelist
/// IATICodelist.sector.problem("15150", at: "dac_sector")   // nil: an active DAC sector
/// ```
public struct IATICodelist: Sendable {
    /// One code of a codelist, with its English name.
    ///
    /// ```swift
    /// if let item = IATICodelist.sector["15150"], !item.withdrawn { print(item.name) }
    /// ```
    public struct Item: Sendable, Equatable {
        public let code: String
        public let name: String
        /// IATI keeps the code for old data but it is not valid for new data.
        public let withdrawn: Bool

        package init(code: String, name: String, withdrawn: Bool) {
            self.code = code
            self.name = name
            self.withdrawn = withdrawn
        }
    }

    /// The codelist's name as IATI publishes it (`Country`, `Sector`).
    public let name: String
    /// What a code of this list is, for messages.
    let describes: String
    /// Every item in the file's order.
    public let items: [Item]
    private let byCode: [String: Item]

    init(name: String, describes: String, rows: [(code: String, name: String, withdrawn: Bool)]) {
        self.name = name
        self.describes = describes
        items = rows.map { Item(code: $0.code, name: $0.name, withdrawn: $0.withdrawn) }
        byCode = Dictionary(items.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The obvious fix for a code the list lacks: the code in capitals, or a country's code for its name
    /// (`Moldova` → MD), else what a code looks like.
    func hint(for given: String) -> String {
        guard name == "Country" else { return "" }
        let upper = given.uppercased()
        if upper != given, let item = byCode[upper], !item.withdrawn { return "; write it in capitals: \(item.code)" }
        if let item = countryNamed(given) { return "; use a two-letter code such as \(item.code) (\(item.name))" }
        return "; use a two-letter code such as SE, KE or MD"
    }

    /// The country whose name is `text` (without regard to case, accents, or the list's "(the)" and "(the Republic
    /// of)" additions), or else the only one whose name begins with it.
    func countryNamed(_ text: String) -> Item? {
        func key(_ s: String) -> String {
            let bare = s.split(separator: "(").first.map(String.init) ?? s
            return bare.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
                .trimmingCharacters(in: .whitespaces)
        }
        let wanted = key(text)
        guard wanted.count >= 3 else { return nil }
        let current = items.filter { !$0.withdrawn }
        if let exact = current.first(where: { key($0.name) == wanted }) { return exact }
        let starting = current.filter { key($0.name).hasPrefix(wanted) }
        return starting.count == 1 ? starting[0] : nil
    }

    /// ISO 3166-1 alpha-2 country codes as IATI's Country codelist has them (with IATI's own `XK` for Kosovo).
    public static let country = IATICodelist(name: "Country", describes: "an ISO 3166-1 alpha-2 country code", rows: countryRows)

    /// OECD DAC 5-digit sector (purpose) codes: IATI's Sector codelist, vocabulary 1.
    public static let sector = IATICodelist(name: "Sector", describes: "a DAC 5-digit sector code", rows: sectorRows)

    public subscript(code: String) -> Item? { byCode[code] }

    /// The problem with `code` as a value for new data, located at `path`: unknown to the list, or withdrawn.
    public func problem(_ code: String, at path: String) -> Problem? {
        guard let item = byCode[code] else {
            let shown = String(code.prefix(40))
            return Problem(path, "\"\(shown)\" is not \(describes) (IATI's \(name) codelist)" + hint(for: code))
        }
        guard !item.withdrawn else {
            return Problem(path, "\(item.code) (\(item.name)) is withdrawn from IATI's \(name) codelist and not valid for new data")
        }
        return nil
    }
}
