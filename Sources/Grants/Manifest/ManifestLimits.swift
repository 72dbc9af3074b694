/// Limits on manifest input, each with a clear error past it.
///
/// ```swift
/// guard data.count <= ManifestLimits.maximumFileSize else { throw TooLarge() }   // parse(_:fileName:) checks this too
/// ```
public enum ManifestLimits {
    public static let maximumFileSize = 64 * 1024 * 1024
    public static let maximumGrants = 100_000
    public static let maximumFieldLength = 1000
    /// Deeper than any manifest needs; stops pathological nesting before it costs anything.
    public static let maximumDepth = 16
    public static let maximumPartnersPerGrant = 50
    public static let maximumThemesPerGrant = 50
    public static let maximumTranchesPerGrant = 120
}
