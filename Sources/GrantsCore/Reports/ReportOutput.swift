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

    /// A temporary file beside `path`; ``commit()`` renames it into place.
    public static func file(at path: String) throws -> ReportOutput {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        ).path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ReportOutputError(message: "cannot write \(path): \(String(cString: strerror(errno)))") }
        return ReportOutput(descriptor: fd, temporaryPath: temporary, finalPath: url.path, ownsDescriptor: true)
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

    /// Flushes; for a file, syncs it and renames it over the target.
    public func commit() throws {
        try flush()
        guard let temporaryPath, let finalPath else { return }
        guard fsync(descriptor) == 0, close(descriptor) == 0 else {
            throw ReportOutputError(message: "cannot finish \(finalPath): \(String(cString: strerror(errno)))")
        }
        guard rename(temporaryPath, finalPath) == 0 else {
            throw ReportOutputError(message: "cannot rename into \(finalPath): \(String(cString: strerror(errno)))")
        }
    }

    /// Drops a half-written file (the target is left as it was).
    public func discard() {
        guard let temporaryPath else { return }
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
