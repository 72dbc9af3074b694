import Foundation
import GrantsCore
import GrantsManifests
import GrantsExports
import Testing

/// Every public call of the library throws one type, `GrantsError`: the compiler holds each declaration to it
/// (typed throws), a scan of the sources holds every declaration to saying so, and each value checked at the
/// door is tried with bad input here.
@Suite struct OneErrorTypeTests {
    /// Public declarations that throw without `throws(GrantsError)`. Only the conformances a protocol fixes the
    /// signature of are left: Codable's `init(from:)` and `encode(to:)`, PGCodable's `init(pgCell:)`. Closure
    /// parameters (`(Row) throws -> Void`) are the caller's own and not counted.
    @Test func everyPublicDeclarationThrowsTheLibrarysError() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let sources = root.appendingPathComponent("Sources")
        let modules = try FileManager.default.contentsOfDirectory(atPath: sources.path).filter {
            $0.hasPrefix("Grants") && !$0.hasSuffix("-admin") && !$0.hasSuffix("-bench")
        }
        #expect(modules.contains("Grants") && modules.contains("GrantsCore"))
        var scanned = 0
        var untyped: [String] = []
        for module in modules {
            let folder = sources.appendingPathComponent(module)
            guard let files = FileManager.default.enumerator(atPath: folder.path) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                for signature in Self.publicSignatures(text) {
                    scanned += 1
                    let exempt = ["init(from decoder", "encode(to encoder", "init(pgCell"].contains { signature.contains($0) }
                    if Self.throwsUntyped(signature) && !exempt { untyped.append("\(module)/\(file): \(signature)") }
                }
            }
        }
        #expect(scanned > 150, "the scan found the declarations (\(scanned))")
        #expect(untyped.isEmpty, "\(untyped.joined(separator: "\n"))")
    }

    /// The scan itself: it must see an untyped `throws`, and not a closure parameter's.
    @Test func theScanTellsTypedFromUntyped() {
        #expect(Self.throwsUntyped("public func a() throws -> Int"))
        #expect(Self.throwsUntyped("public func a() async throws"))
        #expect(!Self.throwsUntyped("public func a() async throws(GrantsError) -> Int"))
        #expect(!Self.throwsUntyped("public func a(_ body: (Int) throws -> Void) throws(GrantsError)"))
        #expect(Self.publicSignatures("public func a(\n  x: Int\n) throws {\n}\nfunc b() throws {}") == ["public func a(\n  x: Int\n) throws"])
    }

    @Test func valuesCheckedAtTheDoorThrowIt() {
        let refusals: [(String, GrantsError.Code, () throws(GrantsError) -> Void)] = [
            ("amount", .invalidAmount, { () throws(GrantsError) in _ = try Money(parsing: "1,000", currency: .sek) }),
            ("negative amount", .invalidAmount, { () throws(GrantsError) in _ = try Money(parsing: "-5", currency: .sek) }),
            ("date", .invalidDate, { () throws(GrantsError) in _ = try CalendarDate("2021-02-30") }),
            ("date parts", .invalidDate, { () throws(GrantsError) in _ = try CalendarDate(year: 2021, month: 13, day: 1) }),
            ("organisationsnummer", .invalidOrganisationNumber, { () throws(GrantsError) in _ = try OrganisationNumber("212000-0663") }),
            ("org-id", .invalidOrganisationNumber, { () throws(GrantsError) in _ = try OrganisationNumber(organisationID: "SE-ON-2021004358") }),
            ("bankgiro", .invalidBankNumber, { () throws(GrantsError) in _ = try BankgiroNumber("5050-1056") }),
            ("plusgiro", .invalidBankNumber, { () throws(GrantsError) in _ = try PlusgiroNumber("12") }),
            ("iban", .invalidBankNumber, { () throws(GrantsError) in _ = try IBAN("SE45 5000 0000 0583 9825 7467") }),
            ("bic", .invalidBankNumber, { () throws(GrantsError) in _ = try BIC("ESSE") }),
            ("ocr", .invalidBankNumber, { () throws(GrantsError) in _ = try OCRReference("47118", requireLengthDigit: true) }),
            ("account kind", .invalidBankNumber, { () throws(GrantsError) in _ = try PaymentAccount(kind: "swish", number: "1234567") }),
            ("actor", .invalidInput, { () throws(GrantsError) in _ = try ActorName("") }),
            ("overflow", .amountOutOfRange, { () throws(GrantsError) in _ = try Money(minorUnits: .max, currency: .sek) + Money(minorUnits: 1, currency: .sek) }),
            ("currencies", .currencyMismatch, { () throws(GrantsError) in _ = try Money(minorUnits: 1, currency: .sek) + Money(minorUnits: 1, currency: Currency(rawValue: "EUR")!) }),
            ("manifest", .invalidInput, { () throws(GrantsError) in _ = try RoundManifest.parse(Data("round: [".utf8), format: .yaml) }),
            ("output", .outputFailed, { () throws(GrantsError) in _ = try ReportOutput.file(at: "/") }),
        ]
        for (name, code, body) in refusals {
            do throws(GrantsError) {
                try body()
                Issue.record("\(name) was accepted")
            } catch {
                #expect(error.code == code, "\(name): \(error.code)")
                #expect(error.category == (code == .outputFailed ? .unavailable : .input), "\(name)")
                #expect(!error.message.isEmpty && !error.message.contains("grants-admin"), "\(name): \(error.message)")
            }
        }
    }

    @Test func codesAreOpenAndCategoriesClosed() {
        // A code made elsewhere (a library on top of this one) is a code like the library's own.
        let custom = GrantsError(GrantsError.Code("quota-exceeded"), .rule, message: "over quota")
        #expect(custom.code.rawValue == "quota-exceeded" && custom.category == .rule && custom.description == "over quota")
        #expect(GrantsError.Category.allCases.count == 7)
        #expect(GrantsError.budgetExceeded(round: "R", excess: nil) == .budgetExceeded(round: "R", excess: nil))
        #expect(GrantsError.budgetExceeded(round: "R", excess: nil) != .budgetExceeded(round: "S", excess: nil))
        let held = GrantsError.heldBack(tranche: 2, grant: "KP-1", requirement: 7)
        #expect(held[.tranche] == "2" && held[.requirement] == "7" && held.key == "KP-1" && held.category == .rule)
        #expect(GrantsError.fourEyes(disbursement: "1", actor: "anna").category == .permission)
        #expect(GrantsError.unknownPerson("x").category == .permission)
        #expect(GrantsError.notFound(entity: "grant", key: "X").category == .notFound)
        #expect(GrantsError.conflict(entity: "grant", key: "X", differences: []).category == .conflict)
    }

    /// Each `public func`/`init`/`subscript` declaration up to its body's brace.
    static func publicSignatures(_ text: String) -> [String] {
        var result: [String] = []
        var rest = Substring(text)
        while let start = rest.firstMatch(of: /\bpublic\s+(?:static\s+|nonisolated\s+|mutating\s+)*(?:func|init|subscript)\b/) {
            var depth = 0
            var end = start.range.upperBound
            scan: while end < rest.endIndex {
                switch rest[end] {
                case "(", "[": depth += 1
                case ")", "]": depth -= 1
                case "{" where depth == 0, "\n" where depth == 0 && rest[end...].dropFirst().first == "}": break scan
                default: break
                }
                end = rest.index(after: end)
            }
            result.append(rest[start.range.lowerBound..<end].trimmingCharacters(in: .whitespaces))
            rest = rest[end...]
        }
        return result
    }

    /// Whether the declaration's own `throws` (outside its parameters) names no type.
    static func throwsUntyped(_ signature: String) -> Bool {
        var depth = 0
        var index = signature.startIndex
        while index < signature.endIndex {
            let character = signature[index]
            if character == "(" || character == "[" { depth += 1 }
            if character == ")" || character == "]" { depth -= 1 }
            if depth == 0, signature[index...].hasPrefix("throws"),
                index == signature.startIndex || !signature[signature.index(before: index)].isLetter
            {
                let after = signature[index...].dropFirst(6).first
                if after != "(" && !(after?.isLetter ?? false) { return true }
            }
            index = signature.index(after: index)
        }
        return false
    }
}
