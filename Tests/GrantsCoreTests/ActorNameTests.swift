import Foundation
import GrantsCore
import Testing

@Suite("Actor names: normalised, look-alikes refused")
struct ActorNameTests {
    @Test(arguments: [
        ("anna", "anna"), ("Anna", "anna"), ("anna ", "anna"), ("  ANNA\t\n", "anna"), ("\u{00A0}Anna\u{3000}", "anna"),
        ("Anna  Svensson", "anna svensson"), ("Anna\u{00A0}Svensson", "anna svensson"), ("Anna\u{2009} Svensson", "anna svensson"),
        // NFD (e + combining acute, A + combining ring) and NFC are one name, stored as NFC.
        ("Ande\u{0301}n", "and\u{00E9}n"), ("A\u{030A}sa", "\u{00E5}sa"), ("\u{00C5}SA", "\u{00E5}sa"),
        ("Örjan Öst", "örjan öst"), ("anna.svensson@icld.se", "anna.svensson@icld.se"), ("o'brien-smith", "o'brien-smith"),
        // One script at a time is a name, whichever it is.
        ("Анна", "анна"), ("Άννα", "άννα"), ("李娜", "李娜"), ("anna 2", "anna 2"),
    ])
    func normalised(name: String, expected: String) throws {
        let actor = try ActorName(name)
        #expect(Array(actor.value.unicodeScalars) == Array(expected.precomposedStringWithCanonicalMapping.unicodeScalars))
        #expect(ActorName.key(name) == actor.value)
    }

    @Test func samePersonHowever() throws {
        let spellings = ["anna", "Anna", "anna ", " ANNA", "\u{00A0}aNNa\u{2003}"]
        #expect(Set(try spellings.map { try ActorName($0) }).count == 1)
        #expect(try ActorName("Ande\u{0301}n").value.utf8.elementsEqual(try ActorName("And\u{00E9}n").value.utf8))
    }

    @Test(arguments: [
        "\u{0430}nna",  // Cyrillic а with Latin nna
        "ann\u{0430}",
        "\u{0391}nna",  // Greek capital alpha
        "p\u{0430}ypal",
        "bertil \u{0431}",  // a Cyrillic letter in a second word still mixes
        "\u{0430}\u{03B1}",  // Cyrillic with Greek
    ])
    func mixedScriptsAreRefused(name: String) {
        let error = #expect(throws: GrantsError.self) { try ActorName(name) }
        guard let problems = invalidProblems(error) else {
            Issue.record("expected invalid input, got \(String(describing: error))")
            return
        }
        #expect(problems.count == 1 && problems[0].location == "actor")
        #expect(problems[0].message.contains("mixes"), "\(problems[0].message)")
    }

    @Test(arguments: [
        "an\u{200B}na",  // zero-width space
        "anna\u{200D}",  // zero-width joiner at the end: not white space, so not trimmed
        "\u{200C}anna",  // zero-width non-joiner
        "an\u{00AD}na",  // soft hyphen
        "\u{202E}anna",  // right-to-left override
        "anna\u{2066}",  // left-to-right isolate
        "\u{FEFF}anna",  // byte order mark
        "an\u{2060}na",  // word joiner
        "an\u{0000}na", "an\u{0007}na", "an\u{007F}na",  // controls
        "an\na", "an\tna",  // a line break or tab inside
        "an\u{2028}na",  // line separator
        "anna\u{3164}",  // Hangul filler
        "an\u{034F}na",  // combining grapheme joiner
        "anna\u{FE0F}",  // variation selector
        "an\u{E000}na",  // private use
        "an\u{2800}na",  // braille blank
    ])
    func invisibleCharactersAreRefused(name: String) {
        let error = #expect(throws: GrantsError.self) { try ActorName(name) }
        guard let problems = invalidProblems(error) else {
            Issue.record("expected invalid input, got \(String(describing: error))")
            return
        }
        #expect(problems.first?.message.contains("character") == true, "\(problems)")
    }

    @Test(arguments: ["\u{FF41}nna", "\u{FB01}lippa", "anna\u{00B2}", "\u{1D41A}nna"])
    func compatibilityFormsAreRefused(name: String) {
        let error = #expect(throws: GrantsError.self) { try ActorName(name) }
        guard let problems = invalidProblems(error) else {
            Issue.record("expected invalid input, got \(String(describing: error))")
            return
        }
        #expect(problems.first?.message.contains("compatibility") == true, "\(problems)")
    }

    @Test func emptyAndTooLongAreRefused() throws {
        for empty in ["", " ", "\t\n", "\u{00A0}\u{3000}"] {
            #expect(throws: GrantsError.invalidInput([Problem("actor", "must not be empty")])) { try ActorName(empty) }
        }
        #expect(try ActorName(String(repeating: "a", count: Limits.actorLength)).value.count == Limits.actorLength)
        #expect(throws: GrantsError.self) { try ActorName(String(repeating: "a", count: Limits.actorLength + 1)) }
        #expect(throws: GrantsError.invalidInput([Problem("person", "must not be empty")])) { try ActorName(" ", at: "person") }
    }

    @Test func codableAsItsNormalisedForm() throws {
        let data = try JSONEncoder().encode(try ActorName(" Anna "))
        #expect(String(decoding: data, as: UTF8.self) == "\"anna\"")
        #expect(try JSONDecoder().decode(ActorName.self, from: Data("\"ANNA\"".utf8)).value == "anna")
        #expect(throws: (any Error).self) { try JSONDecoder().decode(ActorName.self, from: Data("\"\\u0430nna\"".utf8)) }
    }

    /// The key of a name recorded before names were normalised compares it as the rule does, refusing nothing.
    @Test func keysOfRecordedNames() {
        #expect(ActorName.key(" Anna\u{00A0} Svensson ") == "anna svensson")
        #expect(ActorName.key("\u{0430}nna") == "\u{0430}nna")
        #expect(ActorName.key("") == "")
    }

    /// Printable ASCII names take a shortcut past Unicode's tables; it must give what the tables give.
    @Test func thePrintableASCIIShortcutAgreesWithTheUnicodePath() {
        var random = SystemRandomNumberGenerator()
        let alphabet = Array(" \t\nAaZz09 .-'_Å".unicodeScalars) + (0x20..<0x7F).compactMap(Unicode.Scalar.init)
        for _ in 0..<20_000 {
            let name = String(
                String.UnicodeScalarView(
                    (0..<Int.random(in: 0...12, using: &random)).map { _ in
                        alphabet.randomElement(using: &random)!
                    }))
            let printable = name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
            var scalars = String.UnicodeScalarView()
            var space = false
            for scalar in name.precomposedStringWithCanonicalMapping.unicodeScalars {
                if scalar.properties.isWhitespace {
                    space = !scalars.isEmpty
                    continue
                }
                if space { scalars.append(" ") }
                space = false
                scalars.append(scalar)
            }
            let unicode = String(scalars).lowercased().precomposedStringWithCanonicalMapping
            #expect(ActorName.key(name) == unicode, "\(name.debugDescription)")
            if printable && !unicode.isEmpty {
                #expect((try? ActorName(name))?.value == unicode, "\(name.debugDescription)")
            }
        }
    }
}
