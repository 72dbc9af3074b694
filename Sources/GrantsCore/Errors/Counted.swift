/// A count with its noun, singular for one and plural otherwise: "1 grant", "2 grants", "0 grants",
/// "1 country", "3 countries". Every count a message or a listing prints goes through this, so no line says
/// "1 grants".
///
/// ```swift
/// counted(1, "tranche")                 // "1 tranche"
/// counted(3, "country", "countries")    // "3 countries"
/// ```
package func counted(_ count: some BinaryInteger, _ singular: String, _ plural: String? = nil) -> String {
    "\(count) \(count == 1 ? singular : plural ?? singular + "s")"
}
