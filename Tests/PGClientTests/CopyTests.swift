import Foundation
import PGClient
import TestSupport
import Testing

@Suite("COPY")
struct CopyTests {
    @Test func twoHundredThousandRowsRoundTripByteIdentical() async throws {
        try await TestServer.withDatabase { configuration in
            let connection = try PGConnection(configuration: configuration)
            try connection.execute("CREATE TABLE t (id int8 PRIMARY KEY, name text, city text)")
            let names = ["Växjö kommun", "Älmhult", "Öckerö", "Region Västernorrland", "Kisumu County", "Łódź ☃ 日本", "tab\\tquote\"comma,"]
            var sent: [UInt8] = []
            let rows = 200_000
            let loaded = try connection.copyIn("COPY t (id, name, city) FROM STDIN") { writer in
                var line = ""
                for i in 0..<rows {
                    // COPY text format: backslashes are escapes, so the sample with one is written escaped.
                    line = "\(i)\t\(names[i % names.count].replacingOccurrences(of: "\\", with: "\\\\"))\tstad \(i % 290)\n"
                    sent += line.utf8
                    try writer.write(line)
                }
            }
            #expect(loaded == rows)
            var received: [UInt8] = []
            received.reserveCapacity(sent.count)
            let copied = try connection.copyOut("COPY (SELECT id, name, city FROM t ORDER BY id) TO STDOUT") { chunk in
                received += chunk
            }
            #expect(copied == rows)
            #expect(received.count == sent.count)
            #expect(received == sent)
        }
    }

    @Test func aFailingProducerAbortsTheCopy() async throws {
        try await TestServer.withDatabase { configuration in
            let connection = try PGConnection(configuration: configuration)
            try connection.execute("CREATE TABLE t (id int8)")
            struct Stop: Error {}
            #expect(throws: Stop.self) {
                try connection.copyIn("COPY t FROM STDIN") { writer in
                    try writer.write("1\n2\n")
                    throw Stop()
                }
            }
            #expect(try connection.query("SELECT count(*) FROM t").first?.decode(Int64.self, column: 0) == 0)
            let bad = #expect(throws: PGError.self) {
                try connection.copyIn("COPY t FROM STDIN") { try $0.write("not a number\n") }
            }
            #expect(bad?.sqlState == .invalidTextRepresentation)
            #expect(connection.isIdle)
            #expect(throws: PGError.self) { try connection.copyIn("COPY t FROM STDIN WHERE id = \(Int64(1))") { _ in } }
        }
    }
}
