import CZlib
import Foundation
import GrantsCore

/// A ZIP archive written front to back into a ``ReportOutput``, never sought back into: each entry is deflated as
/// its bytes arrive and followed by a data descriptor with its CRC-32 and sizes (general purpose flag bit 3), and
/// the central directory at the end says where every entry starts. So a workbook of any size streams to a file,
/// to standard output or to an HTTP body without being staged anywhere.
///
/// An entry opened with `large: true` announces ZIP64 in its local header (the descriptor then carries 8-byte
/// sizes), so it may grow past 4 GiB; the central directory uses ZIP64 fields only for the values that need them.
/// Layout as in PKWARE's APPNOTE.TXT 6.3 (sections 4.3 to 4.5).
final class ZipStream {
    private struct Entry {
        let name: [UInt8]
        let offset: UInt64
        let large: Bool
        var crc: UInt32 = 0
        var compressed: UInt64 = 0
        var uncompressed: UInt64 = 0
    }

    private let output: ReportOutput
    private let level: Int32
    private let dosTime: UInt16
    private let dosDate: UInt16
    private var entries: [Entry] = []
    private var open: Entry?
    private var offset: UInt64 = 0
    /// On the heap: zlib's state points back at its stream and refuses one that has moved.
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var deflating = false
    private var out = [UInt8](repeating: 0, count: 1 << 16)

    /// `modified` is every entry's time stamp (a fixed time gives the same bytes for the same content); `level` is
    /// zlib's, 1 (fastest) to 9.
    init(output: ReportOutput, modified: Date, level: Int32 = 1) {
        self.output = output
        self.level = level
        var seconds = time_t(modified.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // MS-DOS time stamps start in 1980 and have 2-second steps.
        let year = max(Int(parts.tm_year) + 1900, 1980)
        dosDate = UInt16(truncatingIfNeeded: ((year - 1980) << 9) | (Int(parts.tm_mon + 1) << 5) | Int(parts.tm_mday))
        dosTime = UInt16(truncatingIfNeeded: (Int(parts.tm_hour) << 11) | (Int(parts.tm_min) << 5) | (Int(parts.tm_sec) / 2))
    }

    deinit {
        if deflating { deflateEnd(stream) }
        stream.deallocate()
    }

    /// Starts the next entry; the one before must have been ended.
    func begin(_ name: String, large: Bool = false) throws(GrantsError) {
        precondition(open == nil, "the ZIP entry before was not ended")
        let entry = Entry(name: Array(name.utf8), offset: offset, large: large)
        var header = ByteWriter()
        header.u32(0x0403_4b50)
        header.u16(large ? 45 : 20)  // version needed: 4.5 for ZIP64
        header.u16(0x0808)  // bit 3: sizes in the data descriptor; bit 11: the name is UTF-8
        header.u16(8)  // deflate
        header.u16(dosTime)
        header.u16(dosDate)
        header.u32(0)  // CRC-32, in the descriptor
        header.u32(large ? 0xFFFF_FFFF : 0)
        header.u32(large ? 0xFFFF_FFFF : 0)
        header.u16(UInt16(entry.name.count))
        header.u16(large ? 20 : 0)
        header.bytes(entry.name)
        if large {
            header.u16(0x0001)  // ZIP64 extended information: both sizes, known only at the end
            header.u16(16)
            header.u64(0)
            header.u64(0)
        }
        try emit(header.data)
        stream.initialize(to: z_stream())
        let status = deflateInit2_(
            stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw Self.failure("deflateInit2 returned \(status)") }
        deflating = true
        open = entry
    }

    /// Adds bytes to the open entry.
    func write(_ bytes: UnsafeRawBufferPointer) throws(GrantsError) {
        guard bytes.count > 0 else { return }
        precondition(open != nil, "no ZIP entry is open")
        open!.crc = UInt32(
            truncatingIfNeeded: crc32(uLong(open!.crc), bytes.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
        open!.uncompressed += UInt64(bytes.count)
        stream.pointee.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(bytes.count)
        try deflateAll(Z_NO_FLUSH)
    }

    func write(_ bytes: [UInt8]) throws(GrantsError) {
        var failure: GrantsError?
        bytes.withUnsafeBytes { raw in
            do throws(GrantsError) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    func write(_ text: String) throws(GrantsError) { try write(Array(text.utf8)) }

    /// Ends the open entry: the rest of its deflated bytes, then its data descriptor.
    func end() throws(GrantsError) {
        precondition(open != nil, "no ZIP entry is open")
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        try deflateAll(Z_FINISH)
        deflateEnd(stream)
        deflating = false
        let entry = open!
        var descriptor = ByteWriter()
        descriptor.u32(0x0807_4b50)
        descriptor.u32(entry.crc)
        if entry.large {
            descriptor.u64(entry.compressed)
            descriptor.u64(entry.uncompressed)
        } else {
            guard entry.compressed < 0xFFFF_FFFF, entry.uncompressed < 0xFFFF_FFFF else {
                throw Self.failure("\(String(decoding: entry.name, as: UTF8.self)) outgrew 4 GiB without ZIP64")
            }
            descriptor.u32(UInt32(entry.compressed))
            descriptor.u32(UInt32(entry.uncompressed))
        }
        try emit(descriptor.data)
        entries.append(entry)
        open = nil
    }

    /// Writes the central directory and the end records; the archive is complete.
    func finish() throws(GrantsError) {
        precondition(open == nil, "the last ZIP entry was not ended")
        let start = offset
        var directory = ByteWriter()
        for entry in entries {
            var extra = ByteWriter()
            let bigSize = entry.uncompressed >= 0xFFFF_FFFF || entry.compressed >= 0xFFFF_FFFF
            let bigOffset = entry.offset >= 0xFFFF_FFFF
            if bigSize {
                extra.u64(entry.uncompressed)
                extra.u64(entry.compressed)
            }
            if bigOffset { extra.u64(entry.offset) }
            directory.u32(0x0201_4b50)
            directory.u16(45)  // made by: MS-DOS attributes, version 4.5
            directory.u16(entry.large || bigOffset ? 45 : 20)
            directory.u16(0x0808)
            directory.u16(8)
            directory.u16(dosTime)
            directory.u16(dosDate)
            directory.u32(entry.crc)
            directory.u32(bigSize ? 0xFFFF_FFFF : UInt32(entry.compressed))
            directory.u32(bigSize ? 0xFFFF_FFFF : UInt32(entry.uncompressed))
            directory.u16(UInt16(entry.name.count))
            directory.u16(extra.data.isEmpty ? 0 : UInt16(4 + extra.data.count))
            directory.u16(0)  // comment
            directory.u16(0)  // disk
            directory.u16(0)  // internal attributes
            directory.u32(0)  // external attributes
            directory.u32(bigOffset ? 0xFFFF_FFFF : UInt32(entry.offset))
            directory.bytes(entry.name)
            if !extra.data.isEmpty {
                directory.u16(0x0001)
                directory.u16(UInt16(extra.data.count))
                directory.bytes(extra.data)
            }
        }
        try emit(directory.data)
        let size = UInt64(directory.data.count)
        var end = ByteWriter()
        if start >= 0xFFFF_FFFF || size >= 0xFFFF_FFFF || entries.count >= 0xFFFF {
            let record = offset
            end.u32(0x0606_4b50)  // ZIP64 end of central directory record
            end.u64(44)
            end.u16(45)
            end.u16(45)
            end.u32(0)
            end.u32(0)
            end.u64(UInt64(entries.count))
            end.u64(UInt64(entries.count))
            end.u64(size)
            end.u64(start)
            end.u32(0x0706_4b50)  // its locator
            end.u32(0)
            end.u64(record)
            end.u32(1)
        }
        end.u32(0x0605_4b50)
        end.u16(0)
        end.u16(0)
        end.u16(UInt16(min(entries.count, 0xFFFF)))
        end.u16(UInt16(min(entries.count, 0xFFFF)))
        end.u32(UInt32(min(size, 0xFFFF_FFFF)))
        end.u32(UInt32(min(start, 0xFFFF_FFFF)))
        end.u16(0)
        try emit(end.data)
    }

    private func deflateAll(_ flush: Int32) throws(GrantsError) {
        while true {
            let produced: Int
            let status: Int32
            (status, produced) = out.withUnsafeMutableBytes { buffer in
                stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(buffer.count)
                let status = deflate(stream, flush)
                return (status, buffer.count - Int(stream.pointee.avail_out))
            }
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                throw Self.failure("deflate returned \(status)")
            }
            if produced > 0 {
                open!.compressed += UInt64(produced)
                var failure: GrantsError?
                out.withUnsafeBytes { raw in
                    do throws(GrantsError) { try emit(UnsafeRawBufferPointer(rebasing: raw[0..<produced])) } catch { failure = error }
                }
                if let failure { throw failure }
            }
            if flush == Z_FINISH ? status == Z_STREAM_END : stream.pointee.avail_in == 0 && produced < out.count { return }
        }
    }

    private func emit(_ bytes: [UInt8]) throws(GrantsError) {
        try output.write(bytes)
        offset += UInt64(bytes.count)
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws(GrantsError) {
        try output.write(bytes)
        offset += UInt64(bytes.count)
    }

    static func failure(_ message: String) -> GrantsError { .internalError(sqlState: nil, message: "zip: \(message)") }
}

/// Little-endian fields of a ZIP header.
private struct ByteWriter {
    var data: [UInt8] = []
    mutating func u16(_ value: UInt16) {
        data.append(UInt8(value & 0xFF))
        data.append(UInt8(value >> 8))
    }
    mutating func u32(_ value: UInt32) { for i in 0..<4 { data.append(UInt8(truncatingIfNeeded: value >> (8 * i))) } }
    mutating func u64(_ value: UInt64) { for i in 0..<8 { data.append(UInt8(truncatingIfNeeded: value >> (8 * i))) } }
    mutating func bytes(_ value: [UInt8]) { data += value }
}
