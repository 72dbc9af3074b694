/// The codes of IATI's small codelists that programme settings name: `OrganisationType`, `FlowType`,
/// `FinanceType`, `AidType` (vocabulary 1) and `CollaborationType`, active items only (withdrawn ones are refused
/// for new data, as IATI's validator does). Copied from the official XML files, which the tests carry under
/// `Tests/GrantsTests/Fixtures/standards/iati-codelists/` and check these sets against.
///
/// ```swift
/// IATICodes.flowType.contains("10")      // true: ODA
/// IATICodes.aidType.contains("C01")      // true: project-type interventions
/// ```
public enum IATICodes {
    public static let organisationType: Set<String> = [
        "10", "11", "15", "21", "22", "23", "24", "30", "40", "60", "70", "71", "72", "73", "80", "90",
    ]
    public static let flowType: Set<String> = ["10", "21", "22", "30", "36", "37", "40", "50"]
    public static let financeType: Set<String> = [
        "1", "110", "1100", "2", "210", "3", "310", "311", "4", "421", "422", "423", "424", "425", "431", "432", "433", "510",
        "520", "530", "610", "611", "612", "613", "614", "615", "616", "617", "618", "620", "621", "622", "623", "624", "625",
        "626", "627", "630", "631", "632", "633", "634", "635", "636", "637", "638", "639",
    ]
    public static let aidType: Set<String> = [
        "A01", "A02", "B01", "B02", "B021", "B022", "B03", "B031", "B032", "B033", "B04", "C01", "D01", "D02", "E01", "E02",
        "F01", "G01", "H01", "H02", "H03", "H04", "H05", "H06",
    ]
    public static let collaborationType: Set<String> = ["1", "2", "3", "4", "6", "7", "8"]

    /// A DAC 5-digit sector code (vocabulary 1). Only the form is checked here; the Sector codelist itself is
    /// checked where the library carries it (the door's `IATICodelist.sector`), and by the tests against
    /// the official `Sector.xml`.
    public static func isSectorForm(_ code: String) -> Bool { code.wholeMatch(of: /[0-9]{5}/) != nil }
}
