import Foundation
import TestSupport
import Testing

/// The official schemas and codelists the exports are checked against, shipped in `Fixtures/standards`
/// (see its README), and the independent checkers the tests run over them.
enum Standards {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/standards")

    /// A file of the fixtures; a missing one fails the test (a plain clone has them all).
    static func file(_ path: String) -> URL {
        let url = folder.appendingPathComponent(path)
        #expect(FileManager.default.fileExists(atPath: url.path), "missing fixture \(path)")
        return url
    }

    /// The active codes of an IATI codelist file (`status="withdrawn"` items are not valid for new data).
    static func codes(_ list: String) throws -> Set<String> {
        let text = try String(contentsOf: file("iati-codelists/\(list).xml"), encoding: .utf8)
        var codes = Set<String>()
        for match in text.matches(of: /<codelist-item([^>]*)>\s*<code>([^<]+)<\/code>/) where !match.output.1.contains("withdrawn") {
            codes.insert(String(match.output.2))
        }
        #expect(!codes.isEmpty, "no codes in \(list).xml")
        return codes
    }

    /// Every coded attribute of an IATI export is an active code of its codelist.
    static func checkIATICodes(_ xml: String) throws {
        let checks: [(pattern: String, list: String)] = [
            (#"<recipient-country code="([^"]+)""#, "Country"),
            (#"<sector vocabulary="1" code="([^"]+)""#, "Sector"),
            (#"<transaction-type code="([^"]+)""#, "TransactionType"),
            (#"<activity-status code="([^"]+)""#, "ActivityStatus"),
            (#"<activity-date type="([^"]+)""#, "ActivityDateType"),
            (#"<participating-org role="([^"]+)""#, "OrganisationRole"),
            (#"<(?:participating|reporting|provider|receiver)-org[^>]* type="([^"]+)""#, "OrganisationType"),
            (#"<default-flow-type code="([^"]+)""#, "FlowType"),
            (#"<default-finance-type code="([^"]+)""#, "FinanceType"),
            (#"<default-aid-type vocabulary="1" code="([^"]+)""#, "AidType"),
            (#"<collaboration-type code="([^"]+)""#, "CollaborationType"),
            (#"<budget type="([^"]+)""#, "BudgetType"),
            (#"<budget type="[^"]+" status="([^"]+)""#, "BudgetStatus"),
            (#"<related-activity ref="[^"]+" type="([^"]+)""#, "RelatedActivityType"),
        ]
        for check in checks {
            let valid = try codes(check.list)
            let regex = try Regex(check.pattern)
            for match in xml.matches(of: regex) {
                let code = String(match.output[1].substring ?? "")
                #expect(valid.contains(code), "\(code) is not an active \(check.list) code")
            }
        }
    }

    /// Runs a Python 3 script with Debian's interpreter (where `Scripts/test` installs the checkers).
    static func python(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString).py")
        try Data(script.utf8).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        return try runTool(["/usr/bin/python3", path.path] + arguments)
    }

    /// 360Giving: the package schema, with its reference to the grant schema served from the local copy, and
    /// an RFC 3339 checker for `format: date-time` (without one, jsonschema cannot tell `awardDate`'s two
    /// branches apart and reports a valid date as invalid).
    static let giving360Validator = #"""
        import datetime, json, re, sys
        from jsonschema import Draft202012Validator, FormatChecker, RefResolver
        package = json.load(open(sys.argv[1], encoding="utf-8"))
        grant = json.load(open(sys.argv[2], encoding="utf-8"))
        data = json.load(open(sys.argv[3], encoding="utf-8"))
        ref = package["properties"]["grants"]["items"]["$ref"]
        store = {ref: grant}
        if "$id" in grant:
            store[grant["$id"]] = grant
        checker = FormatChecker()
        RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
        @checker.checks("date-time")
        def date_time(value):
            if not isinstance(value, str):
                return True
            if not RFC3339.match(value):
                return False
            try:
                datetime.datetime.fromisoformat(re.sub(r"[Zz]$", "+00:00", value.replace("t", "T")))
                return True
            except ValueError:
                return False
        validator = Draft202012Validator(package, resolver=RefResolver.from_schema(package, store=store), format_checker=checker)
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        for error in errors[:20]:
            print("/".join(str(p) for p in error.absolute_path), error.message[:300])
        print("invalid" if errors else "valid")
        sys.exit(1 if errors else 0)
        """#

    /// xlsx, read back by openpyxl: the sheet's layout, and every cell against the csv export of the same rows.
    static let xlsxReader = #"""
        import csv, datetime, sys
        import openpyxl
        book = openpyxl.load_workbook(sys.argv[1])
        sheet = book.active
        rows = list(csv.reader(open(sys.argv[2], encoding="utf-8", newline="")))
        problems = []
        if sheet.freeze_panes != "A2":
            problems.append("freeze panes %r" % sheet.freeze_panes)
        if not sheet.auto_filter.ref or not sheet.auto_filter.ref.startswith("A1:O"):
            problems.append("auto filter %r" % sheet.auto_filter.ref)
        if sheet.max_row != len(rows):
            problems.append("rows: xlsx %d, csv %d" % (sheet.max_row, len(rows)))
        dates = {9, 10}
        for r, expected in enumerate(rows, start=1):
            for c, want in enumerate(expected, start=1):
                cell = sheet.cell(row=r, column=c)
                value = cell.value
                if cell.data_type == "f":
                    problems.append("%s is a formula" % cell.coordinate)
                if r == 1:
                    got = value
                elif value is None:
                    got = ""
                elif c - 1 in dates:
                    if not isinstance(value, datetime.datetime) or cell.number_format != "yyyy-mm-dd":
                        problems.append("%s is not a date: %r %r" % (cell.coordinate, value, cell.number_format))
                    got = value.date().isoformat() if isinstance(value, datetime.datetime) else str(value)
                elif c - 1 == 12:
                    if cell.data_type != "n" or cell.number_format != "0.00":
                        problems.append("%s is not a two-decimal number: %r" % (cell.coordinate, cell.number_format))
                    got = "%.2f" % value
                elif c - 1 == 0:
                    if cell.data_type != "n":
                        problems.append("%s is not a number" % cell.coordinate)
                    got = str(int(value))
                else:
                    if cell.data_type != "s":
                        problems.append("%s is not text: %r" % (cell.coordinate, cell.data_type))
                    got = value
                if got != want:
                    problems.append("%s: xlsx %r, csv %r" % (cell.coordinate, got, want))
        for p in problems[:20]:
            print(p)
        print("cells differ" if problems else "equal %d rows" % len(rows))
        sys.exit(1 if problems else 0)
        """#
}
