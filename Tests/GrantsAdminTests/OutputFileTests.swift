import Foundation
import PGClient
import TestSupport
import Testing

/// `report disbursements --output FILE` as a user meets it: `-`, new and existing files, and every path
/// that must be refused (exit 73) and left as it was.
@Suite("grants-admin --output")
struct OutputFileTests {
    static let header = "disbursement_id,programme,round,grant_reference,"

    /// A database with the example round, a CLI on it, and a folder to write into.
    func withRecordedRound(_ body: (CLI, URL) throws -> Void) async throws {
        try await TestGrants.withService { _, configuration in
            let cli = CLI(configuration: configuration)
            let recorded = try cli.run(["round", "record", CLI.examples.appendingPathComponent("kommunala-partnerskap-2021-2.yaml").path])
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let folder = try temporaryFolder("grants-output")
            defer { try? FileManager.default.removeItem(at: folder) }
            try body(cli, folder)
        }
    }

    func export(_ cli: CLI, _ output: String) throws -> CLI.Result {
        try cli.run(["report", "disbursements", "--format", "csv", "--output", output])
    }

    func mode(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode : nil
    }

    func entries(_ folder: URL) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() }

    @Test func dashIsStandardOutput() async throws {
        try await withRecordedRound { cli, folder in
            let result = try cli.shell("\"$GRANTS_ADMIN\" report disbursements --format csv --output -", in: folder)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.hasPrefix(Self.header))
            #expect(try entries(folder).isEmpty, "no file named -")
        }
    }

    @Test func newAndExistingFiles() async throws {
        try await withRecordedRound { cli, folder in
            // A new file follows the umask of the process that writes it.
            let fresh = try cli.shell("umask 027 && \"$GRANTS_ADMIN\" report disbursements --format csv --output new.csv", in: folder)
            #expect(fresh.status == 0, "\(fresh.stderr)")
            #expect(mode(folder.appendingPathComponent("new.csv").path).map { $0 & 0o777 } == 0o640)
            // An existing file of payment data stays private.
            let existing = folder.appendingPathComponent("payments.csv").path
            try Data("old".utf8).write(to: URL(fileURLWithPath: existing))
            #expect(chmod(existing, 0o600) == 0)
            let replaced = try cli.shell(
                "umask 022 && \"$GRANTS_ADMIN\" report disbursements --format csv --output payments.csv", in: folder)
            #expect(replaced.status == 0, "\(replaced.stderr)")
            #expect(mode(existing).map { $0 & 0o7777 } == 0o600)
            #expect(try String(contentsOfFile: existing, encoding: .utf8).hasPrefix(Self.header))
            #expect(try entries(folder) == ["new.csv", "payments.csv"])
        }
    }

    @Test func whatIsNotARegularFileIsRefusedAndLeftUntouched() async throws {
        try await withRecordedRound { cli, folder in
            let target = folder.appendingPathComponent("target.csv").path
            try Data("kept".utf8).write(to: URL(fileURLWithPath: target))
            let link = folder.appendingPathComponent("link.csv").path
            #expect(symlink(target, link) == 0)
            let fifo = folder.appendingPathComponent("fifo").path
            #expect(mkfifo(fifo, 0o600) == 0)
            let sub = folder.appendingPathComponent("sub").path
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
            var paths = [link, fifo, sub, "/dev/null"]
            if geteuid() == 0 {
                let device = folder.appendingPathComponent("null").path
                #expect(mknod(device, S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0)
                paths.append(device)
            }
            let before = try paths.map { try #require(mode($0)) }
            for path in paths {
                let result = try export(cli, path)
                #expect(result.status == 73, "\(path): \(result.stderr)")
                #expect(result.stderr.hasPrefix("grants-admin: refusing to replace \(path)"), "\(result.stderr)")
                #expect(result.stdout.isEmpty)
            }
            #expect(try paths.map { try #require(mode($0)) } == before)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
            #expect(try String(contentsOfFile: target, encoding: .utf8) == "kept")
            #expect(try entries(URL(fileURLWithPath: sub)).isEmpty)
            #expect(try entries(folder) == (["fifo", "link.csv", "sub", "target.csv"] + (geteuid() == 0 ? ["null"] : [])).sorted())
        }
    }

    @Test func aFileThatCannotBeCreatedExits73AndLeavesNothing() async throws {
        try await withRecordedRound { cli, folder in
            let plain = folder.appendingPathComponent("plain").path
            try Data("x".utf8).write(to: URL(fileURLWithPath: plain))
            for path in [folder.appendingPathComponent("missing/out.csv").path, plain + "/out.csv"] {
                let result = try export(cli, path)
                #expect(result.status == 73, "\(path): \(result.stderr)")
                #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            }
            #expect(try entries(folder) == ["plain"], "no temporary file left")
            // Checked before the database: a bad path is 73 even when the database is down.
            let down = try CLI(configuration: nil).run([
                "report", "disbursements", "--format", "csv", "--output", folder.appendingPathComponent("missing/x.csv").path,
                "--database", "postgresql:///grants?host=/nonexistent-socket-dir&connect_timeout=2",
            ])
            #expect(down.status == 73, "\(down.stderr)")
        }
    }
}
