import Foundation
import Grants
import PGClient
import TestSupport
import Testing

@Suite("Streaming exports to async consumers")
struct ExportStreamTests {
    @Test func streamGivesTheSameBytesAsTheFileExport() async throws {
        try await TestGrants.withService { service, _ in
            var manifest = sampleManifest(budget: "1 000 000 000", count: 600)
            for i in manifest.grants.indices { manifest.grants[i].title = String(repeating: "Medborgardialog ", count: 20) + "\(i)" }
            try await service.rounds.record(manifest, actor: "anna")
            for format in DisbursementFormat.allCases {
                var streamed: [UInt8] = []
                var chunks = 0
                for try await chunk in try await service.reports.disbursementStream(ReportFilter(), format: format, options: fixedOptions) {
                    #expect(chunk.count <= 1 << 17)
                    streamed += chunk
                    chunks += 1
                }
                #expect(Data(streamed) == (try await export(service, format)), "\(format)")
                if format != .sie { #expect(chunks > 1, "\(format): more than one chunk") }  // SIE books only paid rows
            }
        }
    }

    @Test func consumerThatStopsEarlyReleasesTheConnection() async throws {
        try await TestGrants.withService(poolSize: 1) { service, _ in
            var manifest = sampleManifest(budget: "1 000 000 000", count: 600)
            for i in manifest.grants.indices { manifest.grants[i].title = String(repeating: "x", count: 400) + "\(i)" }
            try await service.rounds.record(manifest, actor: "anna")
            for _ in 0..<3 {
                // Take one chunk and walk away; with a pool of one, the next call only works if the export
                // was cancelled and its connection returned.
                let chunks = try await service.reports.disbursementStream(ReportFilter(), format: .csv, buffering: 1)
                var iterator = chunks.makeAsyncIterator()
                #expect(try await iterator.next() != nil)
            }
            // Never iterated at all.
            _ = try await service.reports.disbursementStream(ReportFilter(), format: .json, buffering: 1)
            #expect(try await service.rounds.list().count == 1)
        }
    }

    @Test func anUnreachableDatabaseIsThrownBeforeTheFirstByte() async throws {
        var configuration = try PGConfiguration(url: "postgresql://nobody@127.0.0.1:1/none")
        configuration["connect_timeout"] = "2"
        let service = GrantsService(configuration: GrantsConfiguration(database: configuration, poolSize: 1))
        await #expect {
            _ = try await service.reports.disbursementStream(ReportFilter(), format: .csv)
        } throws: { error in
            (error as? GrantsError)?.category == .unavailable
        }
        await service.close()
    }
}
