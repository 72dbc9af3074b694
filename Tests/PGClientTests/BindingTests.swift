import Foundation
import PGClient
import TestSupport
import Testing

@Suite("Binding and decoding")
struct BindingTests {
    @Test func everySupportedTypeRoundTripsWithNulls() async throws {
        try await TestServer.withDatabase { configuration in
            let connection = try PGConnection(configuration: configuration)
            try connection.execute(
                """
                CREATE TABLE t (
                    i2 int2, i4 int4, i8 int8, b bool, s text, d date, ts timestamptz, u uuid, bytes bytea,
                    tags text[], n numeric
                )
                """)
            let instant = Date(timeIntervalSince1970: 1_638_316_800.123456)
            let uuid = UUID()
            let hostile = "Robert'); DROP TABLE t; -- \"quoted\" \\ backslash"
            let swedish = "Växjö kommun, Älmhult, Öckerö — Region Gotland"
            let bytes = Data([0, 1, 2, 255, 0, 39])
            let tags = ["å", "ä,ö", "\"q\"", "NULL", "back\\slash", hostile]
            try connection.execute(
                """
                INSERT INTO t VALUES (\(Int16(-32768)), \(Int32.max), \(Int64.min), \(true), \(swedish),
                    \("2021-12-01"), \(instant), \(uuid), \(bytes), \(tags), 123456789012.34)
                """)
            try connection.execute(
                """
                INSERT INTO t VALUES (\(Int16?.none), \(Int32?.none), \(Int64?.none), \(Bool?.none), \(hostile),
                    \(String?.none), \(Date?.none), \(UUID?.none), \(Data?.none), \([String?]([nil, "x"])), -0.05)
                """)
            let rows = try connection.query("SELECT * FROM t ORDER BY i8 NULLS LAST")
            #expect(rows.count == 2)
            let first = rows[0]
            #expect(try first.decode(Int16.self, column: "i2") == -32768)
            #expect(try first.decode(Int32.self, column: "i4") == Int32.max)
            #expect(try first.decode(Int64.self, column: "i8") == Int64.min)
            #expect(try first.decode(Bool.self, column: "b"))
            #expect(try first.decode(String.self, column: "s") == swedish)
            #expect(try first.decode(Date.self, column: "d") == Date(timeIntervalSince1970: 1_638_316_800))
            let decodedInstant = try first.decode(Date.self, column: "ts")
            #expect(abs(decodedInstant.timeIntervalSince(instant)) < 0.000_001)
            #expect(try first.decode(UUID.self, column: "u") == uuid)
            #expect(try first.decode(Data.self, column: "bytes") == bytes)
            #expect(try first.decode([String].self, column: "tags") == tags)
            #expect(try first.decode(String.self, column: "n") == "123456789012.34")

            let second = rows[1]
            #expect(try second.decode(Int16?.self, column: "i2") == nil)
            #expect(try second.decode(Int64?.self, column: "i8") == nil)
            #expect(try second.decode(Bool?.self, column: "b") == nil)
            #expect(try second.decode(Date?.self, column: "d") == nil)
            #expect(try second.decode(UUID?.self, column: "u") == nil)
            #expect(try second.decode(Data?.self, column: "bytes") == nil)
            #expect(try second.decode([String?].self, column: "tags") == [nil, "x"])
            #expect(try second.decode(String.self, column: "s") == hostile)
            #expect(try second.decode(String.self, column: "n") == "-0.05")
            // The injection payload did nothing: the table is still there with both rows.
            #expect(try connection.query("SELECT count(*) FROM t").first?.decode(Int64.self, column: 0) == 2)
        }
    }

    /// Arrays bind in the server's binary array format: every element type, NULLs, empty arrays, texts with
    /// quotes, commas and backslashes, and the extremes of each integer, as the server itself reads them back.
    @Test func everyArrayElementTypeBindsAsTheServerReadsIt() async throws {
        try await TestServer.withDatabase { configuration in
            let connection = try PGConnection(configuration: configuration)
            let texts = ["", "å", "ä,ö", "\"q\"", "NULL", "{x}", "back\\slash", "Robert'); DROP TABLE t; --", "🇸🇪"]
            let uuid = UUID()
            let row = try #require(
                try connection.query(
                    """
                    SELECT array_to_json(\(texts))::text AS texts, cardinality(\([String]())) AS empty,
                           array_to_json(\([String?]([nil, "x", nil])))::text AS optional_texts,
                           array_to_json(\([Int64.min, 0, Int64.max]))::text AS int8s, pg_typeof(\([Int64]([1])))::text AS int8_type,
                           array_to_json(\([Int.min, -1, Int.max]))::text AS ints,
                           array_to_json(\([Int32.min, 7, Int32.max]))::text AS int4s, pg_typeof(\([Int32]([1])))::text AS int4_type,
                           array_to_json(\([Int64?]([nil, 5])))::text AS optional_int8s,
                           array_to_json(\([true, false]))::text AS bools,
                           (\([uuid]))[1]::text AS uuid,
                           array_to_json(\(["2021-12-01", "2022-01-31"])::date[])::text AS dates
                    """
                ).first)
            let expectedTexts = try String(decoding: JSONEncoder().encode(texts), as: UTF8.self)
            #expect(try row.decode(String.self, column: "texts") == expectedTexts.replacingOccurrences(of: "\\/", with: "/"))
            #expect(try row.decode(Int32.self, column: "empty") == 0)
            #expect(try row.decode(String.self, column: "optional_texts") == "[null,\"x\",null]")
            #expect(try row.decode(String.self, column: "int8s") == "[\(Int64.min),0,\(Int64.max)]")
            #expect(try row.decode(String.self, column: "int8_type") == "bigint[]")
            #expect(try row.decode(String.self, column: "ints") == "[\(Int.min),-1,\(Int.max)]")
            #expect(try row.decode(String.self, column: "int4s") == "[\(Int32.min),7,\(Int32.max)]")
            #expect(try row.decode(String.self, column: "int4_type") == "integer[]")
            #expect(try row.decode(String.self, column: "optional_int8s") == "[null,5]")
            #expect(try row.decode(String.self, column: "bools") == "[true,false]")
            #expect(try row.decode(String.self, column: "uuid") == uuid.uuidString.lowercased())
            #expect(try row.decode(String.self, column: "dates") == "[\"2021-12-01\",\"2022-01-31\"]")
        }
    }

    @Test func nullOrWrongTypeIntoNonOptionalIsATypedError() async throws {
        try await TestServer.withDatabase { configuration in
            let connection = try PGConnection(configuration: configuration)
            let row = try #require(try connection.query("SELECT NULL::int8, 'text'::text, 70000::int4, 1.5::numeric").first)
            let null = #expect(throws: PGError.self) { try row.decode(Int64.self, column: 0) }
            #expect(null?.kind == .decoding)
            let wrong = #expect(throws: PGError.self) { try row.decode(Int64.self, column: 1) }
            #expect(wrong?.kind == .decoding)
            let narrow = #expect(throws: PGError.self) { try row.decode(Int16.self, column: 2) }
            #expect(narrow?.kind == .decoding)
            #expect(throws: PGError.self) { try row.decode(Int64.self, column: 3) }
            #expect(throws: PGError.self) { try row.decode(String.self, column: 9) }
            #expect(try row.decode(Int64?.self, column: 0) == nil)
        }
    }

    @Test func textWithNulIsRefusedNotTruncated() async throws {
        try await TestServer.withDatabase { configuration in
            let connection = try PGConnection(configuration: configuration)
            let error = #expect(throws: PGError.self) {
                try connection.query("SELECT \("before\u{0}after")::text")
            }
            #expect(error?.kind == .usage)
            #expect(error?.description.contains("NUL") == true)
        }
    }

    @Test func fragmentsAreRenumbered() async throws {
        try await TestServer.withDatabase { configuration in
            let connection = try PGConnection(configuration: configuration)
            let filter: PGQuery = "x = \(Int64(2)) AND y = \("b")"
            var query: PGQuery = "SELECT count(*) FROM (VALUES (\(Int64(1)), 'a'), (2, 'b')) AS v(x, y) WHERE '$1' <> \("z") AND "
            query.append(filter)
            #expect(query.sql.hasSuffix("x = $3 AND y = $4"))
            #expect(query.sql.contains("'$1'"))
            #expect(try connection.query(query).first?.decode(Int64.self, column: 0) == 1)
        }
    }

    /// A repeated value is handed out again only for the very bytes it was made from: runs of equal values, a
    /// change and a change back, values that are prefixes of each other, an empty text and an empty array, and
    /// NULL between equal values all decode as the plain decoder has them.
    @Test func aRepeatedValueIsReusedOnlyForTheSameBytes() async throws {
        try await TestServer.withDatabase { configuration in
            let connection = try PGConnection(configuration: configuration)
            let query: PGQuery = """
                SELECT t, a, v FROM (VALUES
                    (1, 'Kommunala partnerskap', ARRAY['citizen-dialogue'], '\\x00000001'::bytea),
                    (2, 'Kommunala partnerskap', ARRAY['citizen-dialogue'], '\\x00000001'::bytea),
                    (3, 'Kommunala partnerskap 2', ARRAY['citizen-dialogue', 'youth'], NULL),
                    (4, 'Kommunala partnerskap', ARRAY['citizen-dialogue'], '\\x00000001'::bytea),
                    (5, NULL, NULL, '\\x0000000a'::bytea),
                    (6, 'Kommunala partnerskap', ARRAY['citizen-dialogue'], '\\x0000000a'::bytea),
                    (7, '', '{}'::text[], '\\x'::bytea),
                    (8, 'Kommunala', ARRAY['citizen'], '\\x'::bytea),
                    (9, 'Kommunala', ARRAY['citizen'], '\\x00'::bytea)
                ) AS x(n, t, a, v) ORDER BY n
                """
            var text = PGRepeatedValue<String?>()
            var array = PGRepeatedValue<[String]?>()
            var bytes = PGRepeatedValue<Data?>()
            var rows = 0
            try connection.forEachRow(query) { row in
                rows += 1
                let (t, a, v) = (try text.decode(row, column: 0), try array.decode(row, column: 1), try bytes.decode(row, column: 2))
                #expect(t == (try row.decode(String?.self, column: 0)), "row \(rows)")
                #expect(a == (try row.decode([String]?.self, column: 1)), "row \(rows)")
                #expect(v == (try row.decode(Data?.self, column: 2)), "row \(rows)")
            }
            #expect(rows == 9)
            // NULL is decoded as the type says, each time: an error for a non-optional, after a value was kept.
            var number = PGRepeatedValue<Int64>()
            #expect(throws: PGError.self) {
                try connection.forEachRow("SELECT x FROM (VALUES (1::int8), (NULL), (1::int8)) AS v(x)") { row in
                    _ = try number.decode(row, column: 0)
                }
            }
        }
    }

    /// A writer's raw view of a cell: `textBytes()` gives a text's bytes as `String(pgCell:)` decodes them, nil for
    /// NULL, an error for another type; `forEachElement` gives an array's elements in order, NULL ones as NULL,
    /// none for `{}`, an error for two dimensions or a non-array.
    @Test func rawTextAndArrayElementsAreWhatTheDecoderReads() async throws {
        try await TestServer.withDatabase { configuration in
            let connection = try PGConnection(configuration: configuration)
            let result = try connection.query(
                """
                SELECT t, a FROM (VALUES
                    (1, 'Växjö "kommun", Syd', ARRAY['a', '', 'Öst; "x"']),
                    (2, '', '{}'::text[]),
                    (3, NULL, ARRAY['a', NULL]),
                    (4, 'x'::varchar, ARRAY['y']::varchar[])
                ) AS x(n, t, a) ORDER BY n
                """)
            var seen: [[String?]] = []
            for row in result {
                let text = try row.cell(0).textBytes().map { String(decoding: $0, as: UTF8.self) }
                #expect(text == (try row.decode(String?.self, column: 0)))
                var elements: [String?] = []
                try row.cell(1).forEachElement { element in
                    elements.append(try element.textBytes().map { String(decoding: $0, as: UTF8.self) })
                }
                seen.append(elements)
            }
            #expect(seen == [["a", "", "Öst; \"x\""], [], ["a", nil], ["y"]])
            let other = try #require(try connection.query("SELECT 1::int8, ARRAY[[1, 2], [3, 4]], 'x'::text").first)
            #expect(throws: PGError.self) { _ = try other.cell(0).textBytes() }
            #expect(throws: PGError.self) { try other.cell(1).forEachElement { _ in } }
            #expect(throws: PGError.self) { try other.cell(2).forEachElement { _ in } }
        }
    }

    @Test func largeReadsStreamRowByRow() async throws {
        try await TestServer.withDatabase { configuration in
            let connection = try PGConnection(configuration: configuration)
            var sum: Int64 = 0
            let count = try connection.forEachRow("SELECT g FROM generate_series(1, \(Int64(50_000))) g") { row in
                sum += try row.decode(Int64.self, column: 0)
            }
            #expect(count == 50_000)
            #expect(sum == 50_000 * 50_001 / 2)
            struct Stop: Error {}
            #expect(throws: Stop.self) {
                try connection.forEachRow("SELECT g FROM generate_series(1, 1000000) g") { _ in throw Stop() }
            }
            // The connection is usable again after a stream was abandoned.
            #expect(try connection.query("SELECT 42").first?.decode(Int.self, column: 0) == 42)
        }
    }
}
