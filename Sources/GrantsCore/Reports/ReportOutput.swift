import Foundation

/// Where a streamed export goes: buffered writes to a file descriptor, to a temporary file that replaces
/// the target only when the export succeeded (atomic `--output`), or to a function that takes each chunk.
///
/// ```swift
/// let output = try ReportOutput.file(at: "/tmp/disbursements.csv")
/// try await service.reports.disbursements(filter, format: .csv, to: output)
/// try output.commit()
/// ```
public final class ReportOutput: @unchecked Sendable {
    // @unchecked: an export writes from one pool thread at a time; `buffer` and `descriptor` are only
    // touched by that writer and, after it returns, by commit/discard on the caller's thread.
    private var buffer: [UInt8] = []
    private let descriptor: Int32
    private let temporaryPath: String?
    private let finalPath: String?
    private let ownsDescriptor: Bool
    private let sink: (@Sendable ([UInt8]) throws -> Void)?
    public private(set) var bytesWritten = 0
    /// Committed or discarded: the descriptor is closed and the temporary file renamed or removed.
    private var closed = false
    package static let chunk = 1 << 16

    private init(
        descriptor: Int32, temporaryPath: String?, finalPath: String?, ownsDescriptor: Bool,
        sink: (@Sendable ([UInt8]) throws -> Void)? = nil
    ) {
        self.descriptor = descriptor
        self.temporaryPath = temporaryPath
        self.finalPath = finalPath
        self.ownsDescriptor = ownsDescriptor
        self.sink = sink
        buffer.reserveCapacity(Self.chunk * 2)
    }

    /// Hands each chunk (about 64 KiB, the last one shorter) to `body` on the exporting thread; an error
    /// `body` throws stops the export. `Reports.disbursementStream(_:format:options:buffering:)` (in `Grants`) builds
    /// on this to feed async consumers such as an HTTP response.
    ///
    /// ```swift
    /// let output = ReportOutput.sink { chunk in try socket.send(chunk) }
    /// try await service.reports.disbursements(ReportFilter(), format: .csv, to: output)
    /// try output.commit()
    /// ```
    public static func sink(_ body: @escaping @Sendable ([UInt8]) throws -> Void) -> ReportOutput {
        ReportOutput(descriptor: -1, temporaryPath: nil, finalPath: nil, ownsDescriptor: false, sink: body)
    }

    /// Standard output.
    public static func standardOutput() -> ReportOutput {
        ReportOutput(descriptor: STDOUT_FILENO, temporaryPath: nil, finalPath: nil, ownsDescriptor: false)
    }

    /// A temporary file beside `path`; ``commit()`` renames it into place, so readers see the old file or the
    /// whole new one, never a part.
    ///
    /// - A new file follows the umask, as any file the user creates.
    /// - An existing regular file keeps its mode and owner (a mode-600 file of payment data stays 600).
    /// - A path that exists and is not a regular file (a symbolic link, a device, a FIFO, a folder) is refused
    ///   and left untouched: replacing it would cut a link, or turn `/dev/null` or a pipe into a file.
    ///
    /// Any failure is a ``ReportOutputError`` and leaves nothing behind.
    public static func file(at path: String) throws -> ReportOutput {
        guard !path.isEmpty, !path.hasSuffix("/") else {
            throw ReportOutputError(message: "refusing to write \"\(path)\": it names a folder, not a file")
        }
        let existing = try Target.inspect(path)
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        ).path
        // Private while it is written when it replaces a file: its mode and owner are set before it is renamed.
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, existing == nil ? 0o666 : 0o600)
        guard fd >= 0 else { throw ReportOutputError(message: "cannot create \(path): \(String(cString: strerror(errno)))") }
        if let existing {
            // Owner first: chown clears set-id bits, which fchmod then restores as they were.
            if fchown(fd, existing.owner, existing.group) != 0 || fchmod(fd, existing.mode) != 0 {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw ReportOutputError(message: "cannot keep the owner and mode of \(path) (\(reason)); it was left as it was")
            }
        }
        return ReportOutput(descriptor: fd, temporaryPath: temporary, finalPath: url.path, ownsDescriptor: true)
    }

    /// What `--output` points at before it is replaced.
    private struct Target {
        let mode: mode_t
        let owner: uid_t
        let group: gid_t

        /// The existing regular file at `path`, nil when there is none, or a refusal for anything else.
        static func inspect(_ path: String) throws -> Target? {
            var info = stat()
            guard lstat(path, &info) == 0 else {
                if errno == ENOENT { return nil }
                throw ReportOutputError(message: "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            let kind = info.st_mode & S_IFMT
            guard kind == S_IFREG else {
                let what =
                    switch kind {
                    case S_IFLNK: "a symbolic link"
                    case S_IFDIR: "a folder"
                    case S_IFIFO: "a FIFO"
                    case S_IFCHR, S_IFBLK: "a device"
                    case S_IFSOCK: "a socket"
                    default: "not a regular file"
                    }
                throw ReportOutputError(
                    message: "refusing to replace \(path): it is \(what), not a regular file (left untouched; use - for standard output)")
            }
            return Target(mode: info.st_mode & 0o7777, owner: info.st_uid, group: info.st_gid)
        }
    }

    /// Appends bytes; they leave in 64 KiB chunks.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.chunk { try flush() }
    }

    public func write(_ bytes: [UInt8]) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.chunk { try flush() }
    }

    public func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= Self.chunk { try flush() }
    }

    /// Sends what is buffered on (to the descriptor or the sink).
    public func flush() throws {
        if let sink {
            guard !buffer.isEmpty else { return }
            try sink(buffer)
            bytesWritten += buffer.count
            buffer.removeAll(keepingCapacity: true)
            return
        }
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw ReportOutputError(message: "write failed: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        bytesWritten += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes; for a file, syncs it and renames it over the target (checked again: something that is not
    /// a regular file put there meanwhile is still refused). On failure the temporary file is gone.
    public func commit() throws {
        guard let temporaryPath, let finalPath else { return try flush() }
        do {
            try flush()
            guard fsync(descriptor) == 0 else {
                throw ReportOutputError(message: "cannot write \(finalPath): \(String(cString: strerror(errno)))")
            }
            _ = try Target.inspect(finalPath)
            guard rename(temporaryPath, finalPath) == 0 else {
                throw ReportOutputError(message: "cannot rename into \(finalPath): \(String(cString: strerror(errno)))")
            }
        } catch {
            discard()
            throw error
        }
        closed = true
        close(descriptor)
        // The rename is durable once the folder is synced; a folder that cannot be opened only costs that.
        let folder = open(URL(fileURLWithPath: finalPath).deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    /// Drops a half-written file (the target is left as it was). Does nothing after a commit.
    public func discard() {
        guard let temporaryPath, !closed else { return }
        closed = true
        if ownsDescriptor { close(descriptor) }
        unlink(temporaryPath)
    }
}

/// A file or descriptor an export could not write, with the operating system's reason.
///
/// ```swift
/// do { _ = try ReportOutput.file(at: "/read-only/out.csv") } catch let error as ReportOutputError { print(error) }
/// ```
public struct ReportOutputError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
