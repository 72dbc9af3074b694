import Foundation
import PGClient
import TestSupport
import Testing

@Suite("grants-admin: who acts, conflicts of interest")
struct IdentityCommandTests {
    /// A round with one submitted application: Växjö kommun with Kisumu County as partner.
    func setUp(_ cli: CLI) throws {
        for arguments in [
            ["theme", "add", "citizen-dialogue", "--name-sv", "Medborgardialog", "--name-en", "Citizen dialogue"],
            ["org", "add", "--name", "Växjö kommun", "--country", "SE", "--org-number", "212000-0662", "--kind", "municipality"],
            ["org", "add", "--name", "Kisumu County", "--country", "KE", "--kind", "region"],
            ["round", "create", "--programme", "Kommunala partnerskap", "--name", "2022:1", "--budget", "1 000 000"],
            [
                "application", "submit", "--round", "2022:1", "--reference", "KP-7", "--applicant", "212000-0662", "--partner",
                "Kisumu County", "--theme", "citizen-dialogue", "--amount", "600 000", "--start", "2022-09-01", "--end", "2024-08-31",
            ],
        ] {
            let result = try cli.run(arguments + ["--actor", "anna"])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
    }

    @Test func declareListAndRefuseAConflictedPerson() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            try setUp(cli)
            let declared = try cli.run([
                "conflict", "declare", "--person", "Cecilia ", "--org", "Kisumu County", "--reason", "Former employee", "--actor", "anna",
            ])
            #expect(declared.status == 0, "\(declared.stderr)")
            #expect(declared.stdout.contains("cecilia with Kisumu County (KE)"), "\(declared.stdout)")
            let text = try cli.run(["conflict", "list"])
            #expect(text.status == 0 && text.stdout.contains("Former employee") && text.stdout.contains("cecilia"), "\(text.stdout)")
            let json = try cli.run(["conflict", "list", "--person", "CECILIA", "--format", "json"])
            let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
            #expect(rows?.count == 1)
            #expect(rows?.first?["person"] as? String == "cecilia")
            #expect(rows?.first?["declared_by"] as? String == "anna")
            #expect((rows?.first?["organisation"] as? [String: Any])?["name"] as? String == "Kisumu County")
            let none = try cli.run(["conflict", "list", "--person", "nobody", "--format", "json"])
            #expect((try JSONSerialization.jsonObject(with: Data(none.stdout.utf8)) as? [Any])?.isEmpty == true, "\(none.stdout)")

            // Refused with exit 1, the message naming the conflict; nothing is written.
            let before = try tableCounts(configuration)
            let approve = try cli.run([
                "application", "approve", "KP-7", "--amount", "550 000", "--decided-on", "2022-05-20", "--actor", "CECILIA",
            ])
            #expect(approve.status == 1, "\(approve.stderr)")
            #expect(approve.stderr.contains("conflict of interest") && approve.stderr.contains("cecilia"), "\(approve.stderr)")
            #expect(approve.stderr.contains("Kisumu County"), "\(approve.stderr)")
            let reject = try cli.run([
                "application", "reject", "KP-7", "--decided-on", "2022-05-20", "--reason", "no", "--actor", "cecilia",
            ])
            #expect(reject.status == 1 && reject.stderr.contains("conflict of interest"), "\(reject.stderr)")
            #expect(try tableCounts(configuration) == before)

            #expect(try cli.run(["application", "approve", "KP-7", "--amount", "550 000", "--decided-on", "2022-05-20"]).status == 0)
            let schedule = try cli.run([
                "disbursement", "schedule", "KP-7", "--amount", "1 000", "--due", "2022-09-30", "--actor", "cecilia",
            ])
            #expect(schedule.status == 1 && schedule.stderr.contains("conflict of interest"), "\(schedule.stderr)")
            let scheduled = try cli.run(["disbursement", "schedule", "KP-7", "--amount", "1 000", "--due", "2022-09-30", "--actor", "anna"])
            let id = try #require(scheduled.stdout.split(separator: " ").dropFirst().first.map(String.init))
            let attest = try cli.run(["disbursement", "attest", id, "--actor", " Cecilia"])
            #expect(attest.status == 1 && attest.stderr.contains("conflict of interest"), "\(attest.stderr)")
            #expect(try cli.run(["disbursement", "attest", id, "--actor", "bertil"]).status == 0)
            let pay = try cli.run(["disbursement", "pay", id, "--paid-on", "2022-10-01", "--payment-ref", "BG 1", "--actor", "cecilia"])
            #expect(pay.status == 1 && pay.stderr.contains("conflict of interest"), "\(pay.stderr)")
        }
    }

    @Test func badDeclarationsNameTheirFlags() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            try setUp(cli)
            let lookalike = try cli.run(["conflict", "declare", "--person", "\u{0441}ecilia", "--org", "Kisumu County", "--reason", "x"])
            #expect(lookalike.status == 65, "\(lookalike.stderr)")
            #expect(lookalike.stderr.contains("--person: mixes Cyrillic and Latin letters"), "\(lookalike.stderr)")
            let invisible = try cli.run(["conflict", "declare", "--person", "ce\u{200B}cilia", "--org", " ", "--reason", "x"])
            #expect(invisible.status == 65)
            #expect(invisible.stderr.contains("--person: holds an invisible"), "\(invisible.stderr)")
            #expect(invisible.stderr.contains("--org: is required"), "\(invisible.stderr)")
            let unknown = try cli.run(["conflict", "declare", "--person", "cecilia", "--org", "Nowhere", "--reason", "x"])
            #expect(unknown.status == 65 && unknown.stderr.contains("no organisation Nowhere"), "\(unknown.stderr)")
            let actor = try cli.run(["theme", "add", "x", "--name-sv", "x", "--name-en", "x", "--actor", "\u{0430}nna"])
            #expect(actor.status == 65 && actor.stderr.contains("--actor: mixes"), "\(actor.stderr)")
        }
    }

    @Test func fourEyesKnowsOnePersonInEverySpelling() async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            try setUp(cli)
            #expect(try cli.run(["application", "approve", "KP-7", "--amount", "550 000", "--decided-on", "2022-05-20"]).status == 0)
            let scheduled = try cli.run(["disbursement", "schedule", "KP-7", "--amount", "1 000", "--due", "2022-09-30", "--actor", "Anna"])
            let id = try #require(scheduled.stdout.split(separator: " ").dropFirst().first.map(String.init))
            for spelling in ["anna ", "ANNA", "\u{00A0}Anna"] {
                let own = try cli.run(["disbursement", "attest", id, "--actor", spelling])
                #expect(own.status == 1 && own.stderr.contains("four-eyes"), "\(spelling): \(own.stderr)")
            }
            #expect(try cli.run(["disbursement", "attest", id, "--actor", "bertil"]).status == 0)
        }
    }

    /// On a person's own login the actor is that login: by default, and the database refuses another name.
    @Test func aPersonalLoginActsAsItself() async throws {
        try await TestGrants.withService { _, configuration in
            var staff = configuration
            staff["user"] = "test_staff"
            var cli = CLI(configuration: staff)
            cli.environment = ["GRANTS_ACTOR": ""]
            let added = try cli.run(["theme", "add", "citizen-dialogue", "--name-sv", "Medborgardialog", "--name-en", "Citizen dialogue"])
            #expect(added.status == 0, "\(added.stderr)")
            let claimed = try cli.run(["org", "add", "--name", "Kisumu County", "--country", "KE", "--actor", "bertil"])
            #expect(claimed.status == 1, "\(claimed.stderr)")
            #expect(claimed.stderr.contains("test_staff") && claimed.stderr.contains("bertil"), "\(claimed.stderr)")
            #expect(claimed.stderr.split(separator: "\n").count == 1, "\(claimed.stderr)")
            #expect(try cli.run(["org", "add", "--name", "Kisumu County", "--country", "KE", "--actor", "Test_Staff"]).status == 0)
            let audit = try cli.run(["audit", "list", "--format", "json"])
            let events = try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [[String: Any]]
            let own = events?.filter { $0["entity_kind"] as? String != "person" }
            #expect(own?.compactMap { $0["actor"] as? String } == ["test_staff", "test_staff"], "\(audit.stdout)")

            // A service login states the actor.
            var service = configuration
            service["user"] = "test_service"
            let pool = CLI(configuration: service)
            #expect(try pool.run(["org", "add", "--name", "Homa Bay County", "--country", "KE", "--actor", "bertil"]).status == 0)
        }
    }
}
