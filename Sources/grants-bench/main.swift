import Foundation
import Grants
import PGClient

// Workloads for Scripts/bench:
//   grants-bench manifest N FILE            a round manifest of N grants (2 partners, 2 themes, 3 tranches each);
//                                           JSON when FILE ends in .json, else YAML
//   grants-bench parse FILE                 parse + validate FILE (no database): the best of three, in MiB/s
//   grants-bench copy-data N DIR            the same rows as CSV files for psql's COPY, and as INSERT statements
//   grants-bench concurrent URL TASKS OPS [POOL]   approvals and disbursements from TASKS concurrent tasks, through
//                                           the library's default pool, or one of POOL connections
// Names are Swedish-shaped (å ä ö) and generated from a fixed seed, so every run loads the same data.

struct Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let places = [
    "Växjö", "Älmhult", "Öckerö", "Jönköping", "Lidköping", "Umeå", "Kalix", "Dorotea", "Piteå", "Strängnäs", "Borås", "Norrköping",
]
let partners = [
    ("Kisumu County", "KE"), ("Lusaka City Council", "ZM"), ("Bulawayo City Council", "ZW"), ("Zomba City Council", "MW"),
    ("Iringa Municipal Council", "TZ"),
]
let themes = ["citizen-dialogue", "youth-participation", "women-in-politics", "equal-health-care"]

struct Row {
    let reference: String, applicant: String, partners: [(String, String)], themes: [String], amount: Int64, tranches: [Int64]
}

func rows(_ count: Int) -> [Row] {
    var random = Generator(state: 2021)
    return (0..<count).map { i in
        let amount = Int64.random(in: 30_000...90_000, using: &random) * 1000
        let third = amount / 3
        return Row(
            reference: "KP-B-\(i + 1)", applicant: "\(places[i % places.count]) kommun \(i / places.count)",
            partners: [
                partners[i % partners.count], (partners[(i + 2) % partners.count].0 + " \(i % 97)", partners[(i + 2) % partners.count].1),
            ],
            themes: [themes[i % 4], themes[(i + 1) % 4]], amount: amount, tranches: [third, third, amount - 2 * third])
    }
}

func money(_ minor: Int64) -> String { Money(minorUnits: minor, currency: .sek).plain }

/// The manifest as YAML, or as JSON when PATH ends in `.json`: the same keys and values either way.
func writeManifest(_ count: Int, to path: String) throws {
    if path.lowercased().hasSuffix(".json") { return try writeJSONManifest(count, to: path) }
    var out =
        "programme: Bench\nround: {name: \"B-\(count)\", budget: \"\(money(Int64(count) * 100_000_000))\", decided_on: 2021-12-01}\nthemes:\n"
    for code in themes { out += "  - {code: \(code), name_sv: \"Tema \(code)\", name_en: \"Theme \(code)\", dac_sector: \"15150\"}\n" }
    out += "grants:\n"
    for row in rows(count) {
        out += "  - reference: \(row.reference)\n    title: \"Partnerskap \(row.applicant)\"\n"
        out += "    applicant: {name: \"\(row.applicant)\", kind: municipality}\n    partners:\n"
        for p in row.partners { out += "      - {name: \"\(p.0)\", country: \(p.1)}\n" }
        out += "    themes: [\(row.themes.joined(separator: ", "))]\n    amount: \"\(money(row.amount))\"\n"
        out += "    period: {start: 2022-01-01, end: 2024-12-31}\n    tranches:\n"
        for (n, t) in row.tranches.enumerated() { out += "      - {due: 202\(2 + n)-01-31, amount: \"\(money(t))\"}\n" }
    }
    try out.write(toFile: path, atomically: true, encoding: .utf8)
}

/// The YAML manifest's content as JSON (one grant a line): what `round record` reads through the same parser.
func writeJSONManifest(_ count: Int, to path: String) throws {
    func q(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where c.value < 0x20: out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
    var out =
        "{\"programme\": \"Bench\", \"round\": {\"name\": \"B-\(count)\", \"budget\": \"\(money(Int64(count) * 100_000_000))\", \"decided_on\": \"2021-12-01\"},\n\"themes\": [\n"
    out += themes.map { code in
        "  {\"code\": \(q(code)), \"name_sv\": \(q("Tema \(code)")), \"name_en\": \(q("Theme \(code)")), \"dac_sector\": \"15150\"}"
    }.joined(separator: ",\n")
    out += "],\n\"grants\": [\n"
    for (i, row) in rows(count).enumerated() {
        if i > 0 { out += ",\n" }
        out += "  {\"reference\": \(q(row.reference)), \"title\": \(q("Partnerskap \(row.applicant)")), "
        out += "\"applicant\": {\"name\": \(q(row.applicant)), \"kind\": \"municipality\"}, \"partners\": ["
        out += row.partners.map { "{\"name\": \(q($0.0)), \"country\": \(q($0.1))}" }.joined(separator: ", ")
        out += "], \"themes\": [\(row.themes.map(q).joined(separator: ", "))], \"amount\": \"\(money(row.amount))\", "
        out += "\"period\": {\"start\": \"2022-01-01\", \"end\": \"2024-12-31\"}, \"tranches\": ["
        out += row.tranches.enumerated().map { n, t in "{\"due\": \"202\(2 + n)-01-31\", \"amount\": \"\(money(t))\"}" }
            .joined(separator: ", ")
        out += "]}"
    }
    out += "\n]}\n"
    try out.write(toFile: path, atomically: true, encoding: .utf8)
}

/// The manifest's rows as two CSV files (grants, tranches) and as one INSERT per row.
func writeCopyData(_ count: Int, to folder: String) throws {
    var grants = ""
    var tranches = ""
    var inserts = ""
    func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
    for row in rows(count) {
        let partnerNames = row.partners.map(\.0).joined(separator: "|")
        let countries = row.partners.map(\.1).joined(separator: "|")
        grants +=
            "\(row.reference),\"Partnerskap \(row.applicant)\",\(row.applicant),\(partnerNames),\(countries),\(row.themes.joined(separator: "|")),\(money(row.amount)),2022-01-01,2024-12-31\n"
        inserts +=
            "INSERT INTO bench_grant VALUES (\(q(row.reference)), \(q("Partnerskap " + row.applicant)), \(q(row.applicant)), \(q(partnerNames)), \(q(countries)), \(q(row.themes.joined(separator: "|"))), \(money(row.amount)), '2022-01-01', '2024-12-31');\n"
        for (n, t) in row.tranches.enumerated() {
            tranches += "\(row.reference),\(n + 1),202\(2 + n)-01-31,\(money(t))\n"
            inserts += "INSERT INTO bench_tranche VALUES (\(q(row.reference)), \(n + 1), '202\(2 + n)-01-31', \(money(t)));\n"
        }
    }
    try grants.write(toFile: folder + "/grants.csv", atomically: true, encoding: .utf8)
    try tranches.write(toFile: folder + "/tranches.csv", atomically: true, encoding: .utf8)
    try inserts.write(toFile: folder + "/inserts.sql", atomically: true, encoding: .utf8)
}

/// TASKS concurrent tasks, each approving applications and scheduling a disbursement on each grant, through a pool of
/// `pool` connections (nil: the library's default, which an embedding service would start from).
func concurrent(url: String, tasks: Int, operations: Int, pool: Int?) async throws {
    var configuration = GrantsConfiguration(database: try PGConfiguration(url: url))
    if let pool { configuration.poolSize = pool }
    let service = GrantsService(configuration: configuration)
    try await service.migrate()
    let round = "C-\(tasks)-\(UUID().uuidString.prefix(6))"
    try await service.themes.add(Theme(code: "citizen-dialogue", nameSv: "Medborgardialog", nameEn: "Citizen dialogue"), actor: "bench")
    try await service.organisations.add(NewOrganisation(name: "Växjö kommun", country: "SE", kind: .municipality), actor: "bench")
    try await service.organisations.add(NewOrganisation(name: "Kisumu County", country: "KE"), actor: "bench")
    let perTask = operations / tasks
    let budget = Int64(tasks * perTask) * 1_000_00 - 5_000_00  // a few approvals must be refused at the end
    // A warm-up round first, its budget never reached: every pooled connection is opened, and every server backend
    // has compiled the write functions and loaded the catalog entries they use, before the clock starts, as in a
    // service that has been running (pgbench, too, times its transactions after connecting).
    let warmUp = "\(round)-warm-up"
    let warmUpPerTask = 3
    for (name, money) in [(warmUp, Int64(tasks * warmUpPerTask) * 1_000_00), (round, budget)] {
        try await service.rounds.create(
            NewRound(programme: "Bench", name: name, budget: Money(minorUnits: money, currency: .sek)), actor: "bench")
    }
    for (name, count) in [(warmUp, warmUpPerTask), (round, perTask)] {
        for t in 0..<tasks {
            for i in 0..<count {
                try await service.applications.submit(
                    NewApplication(
                        round: name, reference: "\(name)-\(t)-\(i)", applicant: "Växjö kommun", partners: ["Kisumu County"],
                        themes: ["citizen-dialogue"],
                        requested: Money(minorUnits: 1_000_00, currency: .sek), startsOn: try CalendarDate("2022-01-01"),
                        endsOn: try CalendarDate("2022-12-31")), actor: "bench")
            }
        }
    }
    _ = try await approveAndSchedule(service, round: warmUp, tasks: tasks, perTask: warmUpPerTask)
    let started = ContinuousClock.now
    let latencies = try await approveAndSchedule(service, round: round, tasks: tasks, perTask: perTask)
    let elapsed = (ContinuousClock.now - started).seconds
    let summary = try await service.rounds.get(round)
    let violations = try summary.budget.isLess(than: summary.awarded) ? 1 : 0
    let grants = try await service.grants.list(round: round)
    let overAward = try grants.filter { try $0.amount.isLess(than: $0.committed) }.count
    /// The value at index ⌊n·p⌋ of the sorted sample, in milliseconds.
    func percentile(_ sample: [Double], _ p: Double) -> Double {
        let sorted = sample.sorted()
        return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000
    }
    let all = latencies.map(\.seconds)
    let approvals = latencies.filter(\.approval).map(\.seconds)
    let schedules = latencies.filter { !$0.approval }.map(\.seconds)
    print(
        String(
            format:
                "{\"tasks\": %d, \"pool\": %d, \"operations\": %d, \"ops_per_second\": %.1f, \"p50_ms\": %.2f, \"p99_ms\": %.2f, \"approve_p50_ms\": %.2f, \"approve_p99_ms\": %.2f, \"schedule_p50_ms\": %.2f, \"schedule_p99_ms\": %.2f, \"violations\": %d}",
            tasks, configuration.poolSize, all.count, Double(all.count) / elapsed, percentile(all, 0.5), percentile(all, 0.99),
            percentile(approvals, 0.5),
            percentile(approvals, 0.99), percentile(schedules, 0.5), percentile(schedules, 0.99), violations + overAward))
    await service.close()
}

/// TASKS tasks at once, each approving its `perTask` applications of `round` (references ROUND-TASK-I) and scheduling a
/// disbursement on each grant: per operation, whether it was an approval (else a schedule) and its seconds.
func approveAndSchedule(_ service: GrantsService, round: String, tasks: Int, perTask: Int) async throws
    -> [(approval: Bool, seconds: Double)]
{
    try await withThrowingTaskGroup(of: [(approval: Bool, seconds: Double)].self) { group in
        for t in 0..<tasks {
            group.addTask {
                var times: [(approval: Bool, seconds: Double)] = []
                for i in 0..<perTask {
                    let reference = "\(round)-\(t)-\(i)"
                    let a = ContinuousClock.now
                    do {
                        try await service.approvals.approve(
                            reference, amount: Money(minorUnits: 1_000_00, currency: .sek), decidedOn: try CalendarDate("2021-12-01"),
                            actor: "bench")
                        times.append((true, (ContinuousClock.now - a).seconds))
                        let b = ContinuousClock.now
                        try await service.disbursements.schedule(
                            reference, amount: Money(minorUnits: 1_000_00, currency: .sek), dueOn: try CalendarDate("2022-01-31"),
                            actor: "bench")
                        times.append((false, (ContinuousClock.now - b).seconds))
                    } catch let error as GrantsError where error.code == .budgetExceeded {
                        times.append((true, (ContinuousClock.now - a).seconds))
                    }
                }
                return times
            }
        }
        return try await group.reduce(into: []) { $0 += $1 }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

let arguments = CommandLine.arguments
do {
    switch arguments.dropFirst().first {
    case "manifest": try writeManifest(Int(arguments[2]) ?? 10_000, to: arguments[3])
    case "copy-data": try writeCopyData(Int(arguments[2]) ?? 10_000, to: arguments[3])
    case "parse":
        // Parse throughput alone (no database): the best of three, since the first run also warms the caches.
        let data = try Data(contentsOf: URL(fileURLWithPath: arguments[2]))
        var best = Duration.seconds(3600)
        var grants = 0
        for _ in 0..<3 {
            let started = ContinuousClock.now
            grants = try RoundManifest.parse(data, fileName: arguments[2]).grants.count
            best = min(best, ContinuousClock.now - started)
        }
        let megabytes = Double(data.count) / 1_048_576
        print(
            String(format: "parsed %d grants (%.1f MiB) in %.3f s: %.1f MiB/s", grants, megabytes, best.seconds, megabytes / best.seconds))
    case "concurrent":
        try await concurrent(
            url: arguments[2], tasks: Int(arguments[3]) ?? 4, operations: Int(arguments[4]) ?? 400,
            pool: arguments.count > 5 ? Int(arguments[5]) : nil)
    default:
        FileHandle.standardError.write(
            Data("usage: grants-bench manifest N FILE | copy-data N DIR | parse FILE | concurrent URL TASKS OPS [POOL]\n".utf8))
        exit(64)
    }
} catch {
    FileHandle.standardError.write(Data("grants-bench: \(error)\n".utf8))
    exit(70)
}
