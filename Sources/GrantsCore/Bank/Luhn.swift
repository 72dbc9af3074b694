/// The Luhn (mod 10) algorithm as Bankgirot, PlusGirot and OCR references use it: from the right, every second
/// digit doubled (the check digit itself is not), digit sums added.
package enum Luhn {
    /// The digits of `text`, or nil when it holds anything else.
    static func digits(_ text: some StringProtocol) -> [Int]? {
        var digits: [Int] = []
        for scalar in text.unicodeScalars {
            guard scalar.value >= 48 && scalar.value <= 57 else { return nil }
            digits.append(Int(scalar.value - 48))
        }
        return digits
    }

    package static func isValid(_ digits: [Int]) -> Bool {
        !digits.isEmpty && sum(digits, doublingFromTheRight: false) % 10 == 0
    }

    /// The check digit that makes `digits` followed by it valid.
    package static func checkDigit(_ digits: [Int]) -> Int {
        (10 - sum(digits, doublingFromTheRight: true) % 10) % 10
    }

    private static func sum(_ digits: [Int], doublingFromTheRight: Bool) -> Int {
        var sum = 0
        for (offset, digit) in digits.reversed().enumerated() {
            let doubled = (offset % 2 == 0) == doublingFromTheRight
            let weighted = doubled ? digit * 2 : digit
            sum += weighted > 9 ? weighted - 9 : weighted
        }
        return sum
    }

    /// `text` without the separators people write in account numbers (spaces, no-break spaces, hyphens).
    static func compact(_ text: String) -> String {
        String(text.unicodeScalars.filter { !(" \u{00A0}\u{202F}\u{2009}-".unicodeScalars.contains($0)) }.map(Character.init))
    }
}
