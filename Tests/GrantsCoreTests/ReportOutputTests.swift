import Foundation
import Synchronization
import GrantsCore
import GrantsExports
import Testing

/// `--output FILE` semantics, on the writer itself: atomic replacement, mode and owner kept, anything that is
/// not a regular file refused and left untouched, nothing left behind on failure.
@Suite("Output files")
struct ReportOutputTests {
    /// A fresh folder for one test, removed afterwards.
    static func withFolder(_ body: (URL) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("grants-output-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer {
            chmod(folder.path, 0o755)
            try? FileManager.default.removeItem(at: folder)
        }
        try body(folder)
    }

    static func write(_ text: String, to path: String) throws {
        let output = try ReportOutput.file(at: path)
        do {
            try output.write(text)
            try output.commit()
        } catch {
            output.discard()
            throw error
        }
    }

    static func status(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    /// Only the named entries: no temporary file is left beside them.
    static func entries(_ folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    @Test func aNewFileFollowsTheUmask() throws {
        try Self.withFolder { folder throws in
            let path = folder.appendingPathComponent("new.csv").path
            // The umask is the whole process's: a more permissive one than the usual 022, so that tests running
            // meanwhile are not hurt, and a mode no fixed default (0644) would give.
            let previous = umask(0o002)
            defer { umask(previous) }
            try Self.write("a,b\r\n", to: path)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "a,b\r\n")
            #expect(Self.status(path).map { $0.st_mode & 0o777 } == 0o664)
            #expect(try Self.entries(folder) == ["new.csv"])
        }
    }

    @Test func anExistingFileKeepsItsModeAndOwner() throws {
        try Self.withFolder { folder throws in
            let path = folder.appendingPathComponent("payments.csv").path
            try Data("old".utf8).write(to: URL(fileURLWithPath: path))
            #expect(chmod(path, 0o600) == 0)
            // As root the owner can be someone else's, which the new file must keep too.
            let owner: uid_t = geteuid() == 0 ? 4242 : geteuid()
            let group: gid_t = geteuid() == 0 ? 4343 : getegid()
            #expect(chown(path, owner, group) == 0)
            let before = try #require(Self.status(path))
            try Self.write("new", to: path)
            let after = try #require(Self.status(path))
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "new")
            #expect(after.st_mode & 0o7777 == 0o600)
            #expect(after.st_uid == owner && after.st_gid == group)
            #expect(after.st_ino != before.st_ino, "replaced by rename, not rewritten in place")
            #expect(try Self.entries(folder) == ["payments.csv"])
        }
    }

    @Test func aSymbolicLinkIsRefusedAndLeftUntouched() throws {
        try Self.withFolder { folder throws in
            let target = folder.appendingPathComponent("target.csv").path
            let link = folder.appendingPathComponent("link.csv").path
            try Data("kept".utf8).write(to: URL(fileURLWithPath: target))
            #expect(symlink(target, link) == 0)
            let error = #expect(throws: GrantsError.self) { try Self.write("new", to: link) }
            #expect(error?.message.contains("symbolic link") == true, "\(String(describing: error))")
            #expect(Self.status(link).map { $0.st_mode & S_IFMT } == S_IFLNK)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
            #expect(try String(contentsOfFile: target, encoding: .utf8) == "kept")
            #expect(try Self.entries(folder) == ["link.csv", "target.csv"])
        }
    }

    @Test func aFIFOIsRefusedWithoutBeingOpened() throws {
        try Self.withFolder { folder throws in
            let fifo = folder.appendingPathComponent("pipe").path
            #expect(mkfifo(fifo, 0o600) == 0)
            // Opening a FIFO for writing would block without a reader: the refusal comes first.
            let error = #expect(throws: GrantsError.self) { try Self.write("new", to: fifo) }
            #expect(error?.message.contains("FIFO") == true, "\(String(describing: error))")
            #expect(Self.status(fifo).map { $0.st_mode & S_IFMT } == S_IFIFO)
            #expect(try Self.entries(folder) == ["pipe"])
        }
    }

    @Test func aDeviceIsRefusedAndStaysADevice() throws {
        try Self.withFolder { folder throws in
            // As root, a null device of our own (character device 1:3) in the test's folder; otherwise the
            // real /dev/null, which the writer must refuse before opening it.
            var device = "/dev/null"
            if geteuid() == 0 {
                let own = folder.appendingPathComponent("null").path
                #expect(mknod(own, S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0)
                device = own
            }
            let before = try #require(Self.status(device))
            let error = #expect(throws: GrantsError.self) { try Self.write("new", to: device) }
            #expect(error?.message.contains("device") == true, "\(String(describing: error))")
            let after = try #require(Self.status(device))
            #expect(after.st_mode & S_IFMT == S_IFCHR)
            #expect(after.st_rdev == before.st_rdev && after.st_mode == before.st_mode)
            #expect(try Self.entries(folder) == (geteuid() == 0 ? ["null"] : []))
        }
    }

    @Test func aFolderIsRefused() throws {
        try Self.withFolder { folder throws in
            let sub = folder.appendingPathComponent("reports")
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: false)
            #expect(throws: GrantsError.self) { try Self.write("new", to: sub.path) }
            #expect(throws: GrantsError.self) { try Self.write("new", to: sub.path + "/") }
            #expect(throws: GrantsError.self) { try Self.write("new", to: "") }
            #expect(try Self.entries(sub).isEmpty)
            #expect(try Self.entries(folder) == ["reports"])
        }
    }

    @Test func anUnwritableFolderFailsAndLeavesNothing() throws {
        try Self.withFolder { folder throws in
            // Each of these fails for every user, root included (root writes past permissions, not past these).
            let missing = folder.appendingPathComponent("missing/out.csv").path
            #expect(throws: GrantsError.self) { try Self.write("new", to: missing) }
            let file = folder.appendingPathComponent("plain")
            try Data("a file, not a folder".utf8).write(to: file)
            let underAFile = #expect(throws: GrantsError.self) { try Self.write("new", to: file.path + "/out.csv") }
            #expect(underAFile?.code == .outputFailed, "\(String(describing: underAFile))")
            #expect(try Self.entries(folder) == ["plain"])
            // /proc takes no new files from anyone.
            #expect(throws: GrantsError.self) { try Self.write("new", to: "/proc/self/out.csv") }
            #expect(!FileManager.default.fileExists(atPath: "/proc/self/out.csv"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: "/proc/self").allSatisfy { !$0.hasSuffix(".tmp") })
            // A folder without write permission stops everyone but root; root is checked by the cases above.
            guard geteuid() != 0 else { return }
            #expect(chmod(folder.path, 0o555) == 0)
            defer { chmod(folder.path, 0o755) }
            #expect(throws: GrantsError.self) { try Self.write("new", to: folder.appendingPathComponent("out.csv").path) }
            #expect(try Self.entries(folder) == ["plain"])
        }
    }

    @Test func anOutputIsSendableAndCountsWhatItSent() async throws {
        // Written from one task, committed from another: the state is behind a lock, not @unchecked.
        let chunks = Mutex<[Int]>([])
        let output = ReportOutput.sink { chunk in chunks.withLock { $0.append(chunk.count) } }
        try await Task.detached { try output.write(String(repeating: "x", count: ReportOutput.chunk + 10)) }.value
        try await Task.detached { try output.commit() }.value
        #expect(output.bytesWritten == ReportOutput.chunk + 10)
        #expect(chunks.withLock { $0 } == [ReportOutput.chunk + 10])
        // A consumer's own error comes back as the library's, saying what it was.
        struct Hangup: Error {}
        let failing = ReportOutput.sink { _ in throw Hangup() }
        let error = #expect(throws: GrantsError.self) { try failing.commit(); try failing.write("x"); try failing.flush() }
        #expect(error?.code == .outputFailed && error?.message.contains("Hangup") == true, "\(String(describing: error))")
    }

    @Test func aFailedExportLeavesTheOldFileAndNoTemporaryFile() throws {
        try Self.withFolder { folder throws in
            let path = folder.appendingPathComponent("report.csv").path
            try Data("old".utf8).write(to: URL(fileURLWithPath: path))
            let output = try ReportOutput.file(at: path)
            try output.write(String(repeating: "x", count: ReportOutput.chunk * 2))
            #expect(try Self.entries(folder).count == 2, "the temporary file is beside the target while written")
            output.discard()
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
            #expect(try Self.entries(folder) == ["report.csv"])
            // A target that turns into a symbolic link while the export runs is still refused at the end.
            let late = try ReportOutput.file(at: path)
            try late.write("new")
            #expect(unlink(path) == 0 && symlink("/dev/null", path) == 0)
            #expect(throws: GrantsError.self) { try late.commit() }
            #expect(try Self.entries(folder) == ["report.csv"])
            #expect(Self.status(path).map { $0.st_mode & S_IFMT } == S_IFLNK)
        }
    }
}
