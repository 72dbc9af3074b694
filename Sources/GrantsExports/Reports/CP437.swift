import Foundation
import GrantsCore

/// IBM code page 437, the only encoding SIE allows (`#FORMAT PC8`). Characters outside it are
/// transliterated (č → c, € → EUR, – → -, curly quotes → straight ones), never dropped silently; what has
/// no reasonable spelling becomes `?`.
package enum CP437 {
    /// Bytes 0x80…0xFF in order.
    package static let upperHalf: [Character] = Array(
        "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{00A0}"
    )

    package static let table: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (i, character) in upperHalf.enumerated() {
            if let scalar = character.unicodeScalars.first { map[scalar] = UInt8(0x80 + i) }
        }
        return map
    }()

    package static let transliterations: [Unicode.Scalar: String] = [
        "€": "EUR", "–": "-", "—": "-", "‒": "-", "−": "-", "‐": "-", "‑": "-",
        "‘": "'", "’": "'", "‚": "'", "“": "\"", "”": "\"", "„": "\"", "«": "\"", "»": "\"", "…": "...",
        "\u{2009}": " ", "\u{202F}": " ", "•": "*", "™": "TM", "©": "(c)", "®": "(R)",
        "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "Ł": "L", "ł": "l", "Þ": "Th", "þ": "th", "Œ": "OE", "œ": "oe",
        "ı": "i",
    ]

    /// The CP437 bytes of `text`; control characters (forbidden in SIE) become spaces.
    package static func encode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars { append(scalar, to: &out) }
        return out
    }

    private static func append(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
        if scalar.value < 0x20 || scalar.value == 0x7F {
            out.append(UInt8(ascii: " "))
        } else if scalar.value < 0x80 {
            out.append(UInt8(scalar.value))
        } else if let byte = table[scalar] {
            out.append(byte)
        } else if let replacement = transliterations[scalar] {
            for s in replacement.unicodeScalars { append(s, to: &out) }
        } else {
            // Strip accents: the canonical decomposition's base letters (š → s, ă → a, ş → s).
            let decomposed = String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars
                .filter { !($0.properties.generalCategory == .nonspacingMark) }
            if let first = decomposed.first, first != scalar, decomposed.allSatisfy({ $0.value < 0x80 || table[$0] != nil }) {
                for s in decomposed { append(s, to: &out) }
            } else {
                out.append(UInt8(ascii: "?"))
            }
        }
    }
}

/// CRC-32 as zlib computes it (polynomial 0xEDB88320, init and final inversion), for SIE `#KSUMMA`.
package struct CRC32 {
    package static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    private(set) var state: UInt32 = 0xFFFF_FFFF
    package init() {}

    package mutating func update(_ bytes: [UInt8]) {
        for byte in bytes { state = Self.table[Int((state ^ UInt32(byte)) & 0xFF)] ^ (state >> 8) }
    }

    package var value: UInt32 { state ^ 0xFFFF_FFFF }
}
