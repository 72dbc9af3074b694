import Foundation
import GrantsCore
import Synchronization

/// Where a streamed export goes: buffered writes to a file descriptor, to a temporary file that replaces
/// the target only when the export succeeded (atomic `--output`), or to a function that takes each chunk.
///
/// ```swift
/// let output = try ReportOutput.file(at: "/tmp/disbursements.csv")
/// try await service.reports.disbursements(filter, format: .csv, to: output)
/// try output.commit()
/// ```
public final class ReportOutput: Sendable {
    /// What changes as an export writes; behind a lock, so the output can be handed between tasks and threads
    /// (an export writes from a pool thread, the caller commits or discards on its own).
    private struct State {
        var buffer: [UInt8] = []
        var bytesWritten = 0
        /// How far the kernel has been asked to start writing the file to disk (see `startWriteback`).
        var writebackRequested = 0
        /// Committed or discarded: the descriptor is closed and the temporary file renamed or removed.
        var closed = false
    }

    private let state = Mutex(State())
    private let descriptor: Int32
    private let temporaryPath: String?
    private let finalPath: String?
    private let ownsDescriptor: Bool
    private let sink: (@Sendable ([UInt8]) throws -> Void)?
    package static let chunk = 1 << 16

    /// The bytes sent on so far (to the file, descriptor or sink).
    public var bytesWritten: Int { state.withLock { $0.bytesWritten } }

    private init(
        descriptor: Int32, temporaryPath: String?, finalPath: String?, ownsDescriptor: Bool,
        sink: (@Sendable ([UInt8]) throws -> Void)? = nil
    ) {
        self.descriptor = descriptor
        self.temporaryPath = temporaryPath
        self.finalPath = finalPath
        self.ownsDescriptor = ownsDescriptor
        self.sink = sink
        state.withLock { $0.buffer.reserveCapacity(Self.chunk * 2) }
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
    /// Any failure is a `GrantsError` of code `outputFailed` and leaves nothing behind.
    public static func file(at path: String) throws(GrantsError) -> ReportOutput {
        guard !path.isEmpty, !path.hasSuffix("/") else {
            throw GrantsError.outputFailed("refusing to write \"\(path)\": it names a folder, not a file")
        }
        let existing = try Target.inspect(path)
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        ).path
        // Private while it is written when it replaces a file: its mode and owner are set before it is renamed.
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, existing == nil ? 0o666 : 0o600)
        guard fd >= 0 else { throw GrantsError.outputFailed("cannot create \(path): \(String(cString: strerror(errno)))") }
        if let existing {
            // Owner first: chown clears set-id bits, which fchmod then restores as they were.
            if fchown(fd, existing.owner, existing.group) != 0 || fchmod(fd, existing.mode) != 0 {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw GrantsError.outputFailed("cannot keep the owner and mode of \(path) (\(reason)); it was left as it was")
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
        static func inspect(_ path: String) throws(GrantsError) -> Target? {
            var info = stat()
            guard lstat(path, &info) == 0 else {
                if errno == ENOENT { return nil }
                throw GrantsError.outputFailed("cannot write \(path): \(String(cString: strerror(errno)))")
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
                throw GrantsError.outputFailed("refusing to replace \(path): it is \(what), not a regular file (left untouched)")
            }
            return Target(mode: info.st_mode & 0o7777, owner: info.st_uid, group: info.st_gid)
        }
    }

    /// Appends bytes; they leave in 64 KiB chunks.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(GrantsError) {
        try state.withLock { (state) throws(GrantsError) in
            state.buffer.append(contentsOf: bytes)
            if state.buffer.count >= Self.chunk { try send(&state) }
        }
    }

    public func write(_ bytes: [UInt8]) throws(GrantsError) {
        try state.withLock { (state) throws(GrantsError) in
            state.buffer.append(contentsOf: bytes)
            if state.buffer.count >= Self.chunk { try send(&state) }
        }
    }

    public func write(_ text: String) throws(GrantsError) {
        try state.withLock { (state) throws(GrantsError) in
            state.buffer.append(contentsOf: text.utf8)
            if state.buffer.count >= Self.chunk { try send(&state) }
        }
    }

    /// Sends what is buffered on (to the descriptor or the sink).
    public func flush() throws(GrantsError) {
        try state.withLock { (state) throws(GrantsError) in try send(&state) }
    }

    /// The buffer to the sink or the descriptor. An error the sink throws is handed on as it is when it is the
    /// library's, else as an `outputFailed` error saying what it was.
    private func send(_ state: inout State) throws(GrantsError) {
        if let sink {
            guard !state.buffer.isEmpty else { return }
            do {
                try sink(state.buffer)
            } catch let error as GrantsError {
                throw error
            } catch {
                throw GrantsError.outputFailed("the export's consumer stopped: \(error)")
            }
            state.bytesWritten += state.buffer.count
            state.buffer.removeAll(keepingCapacity: true)
            return
        }
        var offset = 0
        while offset < state.buffer.count {
            let written = state.buffer.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw GrantsError.outputFailed("write failed: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        state.bytesWritten += state.buffer.count
        state.buffer.removeAll(keepingCapacity: true)
        if temporaryPath != nil { startWriteback(&state) }
    }

    /// The bytes a file output lets pile up in the page cache before it asks the kernel to start writing them.
    static let writebackStep = 1 << 20

    /// A file output is synced before it is renamed into place, and that sync waits for every byte not yet on
    /// disk: for an export of a few tens of MiB, most of it. So, as PostgreSQL does with its own files
    /// (`backend_flush_after`), every MiB the kernel is asked to start writing what has been written so far,
    /// without waiting for it, and the final `fsync` waits for the tail alone. On Linux, `POSIX_FADV_DONTNEED`
    /// starts that writeback (and lets the pages go once they are clean: the export never reads them back).
    /// A hint only: where it is not available, or fails, the `fsync` in ``commit()`` still does all the work.
    private func startWriteback(_ state: inout State) {
        #if os(Linux)
            guard state.bytesWritten - state.writebackRequested >= Self.writebackStep else { return }
            _ = posix_fadvise(
                descriptor, off_t(state.writebackRequested), off_t(state.bytesWritten - state.writebackRequested),
                POSIX_FADV_DONTNEED)
            state.writebackRequested = state.bytesWritten
        #endif
    }

    /// Flushes; for a file, syncs it and renames it over the target (checked again: something that is not
    /// a regular file put there meanwhile is still refused). On failure the temporary file is gone.
    public func commit() throws(GrantsError) {
        guard let temporaryPath, let finalPath else { return try flush() }
        do throws(GrantsError) {
            try flush()
            guard fsync(descriptor) == 0 else {
                throw GrantsError.outputFailed("cannot write \(finalPath): \(String(cString: strerror(errno)))")
            }
            _ = try Target.inspect(finalPath)
            guard rename(temporaryPath, finalPath) == 0 else {
                throw GrantsError.outputFailed("cannot rename into \(finalPath): \(String(cString: strerror(errno)))")
            }
        } catch {
            discard()
            throw error
        }
        let wasOpen = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        if wasOpen { close(descriptor) }
        // The rename is durable once the folder is synced; a folder that cannot be opened only costs that.
        let folder = open(URL(fileURLWithPath: finalPath).deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    /// Drops a half-written file (the target is left as it was). Does nothing after a commit.
    public func discard() {
        guard let temporaryPath else { return }
        let wasOpen = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard wasOpen else { return }
        if ownsDescriptor { close(descriptor) }
        unlink(temporaryPath)
    }
}
