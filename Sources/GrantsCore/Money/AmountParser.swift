/// The amount syntax of flags, manifests and CSV files:
/// digits, at most one decimal separator (`,` or `.`) followed by one or two digits; spaces (also no-break
/// and thin spaces) may group thousands; an optional currency word after (`kr`, `SEK`).
///
/// Accepted: `1 000,50`, `1000.5`, `10 641 000 kr`, `950000 SEK`.
/// Refused: `1,000` (three decimals), `1.000.000`, `-5`, `0`, `1e6`, `NaN`, anything above the Int64 range.
///
/// ```swift
/// try AmountParser.parse("1 000,50")   // 100_050 (minor units)
/// ```
public enum AmountParser {
    package static let groupSeparators: Set<Unicode.Scalar> = [" ", "\u{00A0}", "\u{202F}", "\u{2009}"]
    package static let maximumLength = 64

    /// The amount in minor units (öre), always > 0.
    public static func parse(_ input: String) throws(GrantsError) -> Int64 {
        guard input.utf8.count <= maximumLength else { throw .amount(input, "is longer than \(maximumLength) characters") }
        if let value = plainValue(input) { return value }
        var scalars = Array(input.unicodeScalars)[...]
        func trimSpaces() {
            while let first = scalars.first, groupSeparators.contains(first) || first == "\t" { scalars.removeFirst() }
            while let last = scalars.last, groupSeparators.contains(last) || last == "\t" { scalars.removeLast() }
        }
        trimSpaces()
        // An optional currency word at the end.
        let text = String(String.UnicodeScalarView(scalars))
        for word in ["kr", "SEK"] where text.lowercased().hasSuffix(word.lowercased()) {
            let cut = text.unicodeScalars.count - word.unicodeScalars.count
            let before = Array(text.unicodeScalars)[..<cut]
            if let last = before.last, !(last.properties.numericType != nil || groupSeparators.contains(last)) { continue }
            scalars = before
            trimSpaces()
            break
        }
        guard !scalars.isEmpty else { throw .amount(input, "has no digits") }

        var whole: [UInt8] = []  // digits before the separator
        var groups: [Int] = [0]  // lengths of the space-separated groups of the whole part
        var fraction: [UInt8] = []
        var inFraction = false
        var previousWasSeparatorSpace = false
        for scalar in scalars {
            if let digit = asciiDigit(scalar) {
                if inFraction {
                    fraction.append(digit)
                } else {
                    whole.append(digit)
                    groups[groups.count - 1] += 1
                }
                previousWasSeparatorSpace = false
            } else if groupSeparators.contains(scalar) {
                guard !inFraction, !whole.isEmpty, !previousWasSeparatorSpace else {
                    throw .amount(input, "has a space where a digit belongs")
                }
                groups.append(0)
                previousWasSeparatorSpace = true
            } else if scalar == "," || scalar == "." {
                guard !inFraction else { throw .amount(input, "has more than one decimal separator") }
                guard !whole.isEmpty, !previousWasSeparatorSpace else { throw .amount(input, "needs digits before the decimal separator") }
                inFraction = true
            } else if scalar == "-" || scalar == "−" {
                throw .amount(input, "is negative; amounts are positive")
            } else {
                throw .amount(input, "is not an amount (digits, one decimal separator, optional kr/SEK)")
            }
        }
        guard !whole.isEmpty else { throw .amount(input, "has no digits") }
        if inFraction {
            guard !fraction.isEmpty else { throw .amount(input, "ends with a decimal separator") }
            guard fraction.count <= 2 else {
                throw .amount(input, "has \(fraction.count) decimals; at most 2 (write thousands with spaces: 1 000)")
            }
        }
        if groups.count > 1 {
            guard groups[0] >= 1, groups[0] <= 3, groups.dropFirst().allSatisfy({ $0 == 3 }) else {
                throw .amount(input, "groups thousands wrongly (write 1 000 000)")
            }
        }
        var value: Int64 = 0
        for digit in whole + fraction + Array(repeating: 0, count: 2 - fraction.count) {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (plus, overflow2) = times.addingReportingOverflow(Int64(digit))
            guard !overflow1, !overflow2 else { throw .amount(input, "is too large") }
            value = plus
        }
        guard value > 0 else { throw .amount(input, "is zero; amounts are positive") }
        return value
    }

    /// The common case without building arrays of scalars: ASCII digits with an optional decimal part of one or
    /// two digits (`950000.00`, `1000,5`), no spaces, no currency word. Gives the value the general path gives for
    /// such a text; nil for anything else, zero and overflow included, which the general path then explains.
    private static func plainValue(_ input: String) -> Int64? {
        var value: Int64 = 0
        var digits = 0
        var decimals = -1  // -1: no separator yet
        for byte in input.utf8 {
            if byte >= 48 && byte <= 57 {
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (plus, overflow2) = times.addingReportingOverflow(Int64(byte - 48))
                guard !overflow1, !overflow2 else { return nil }
                value = plus
                if decimals >= 0 { decimals += 1 } else { digits += 1 }
            } else if (byte == UInt8(ascii: ".") || byte == UInt8(ascii: ",")) && decimals < 0 && digits > 0 {
                decimals = 0
            } else {
                return nil
            }
        }
        guard digits > 0, decimals != 0, decimals <= 2 else { return nil }
        for _ in 0..<(decimals < 0 ? 2 : 2 - decimals) {
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            value = times
        }
        return value > 0 ? value : nil
    }

    private static func asciiDigit(_ scalar: Unicode.Scalar) -> UInt8? {
        scalar.value >= 48 && scalar.value <= 57 ? UInt8(scalar.value - 48) : nil
    }
}
