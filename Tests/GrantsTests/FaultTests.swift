import Foundation
import Grants
import PGClient
import TestSeeds
import TestSupport
import Testing

/// Backends killed at random points while a round is recorded: after each kill the round is there whole or
/// not at all, and a retry records it exactly once. GRANTS_FAULT_TRIALS sets the number (100 under CI=true,
/// 20 otherwise, to keep the local loop short).
@Suite("Faults")
struct FaultTests {
    static let trials =
        Int(ProcessInfo.processInfo.environment["GRANTS_FAULT_TRIALS"] ?? "")
        ?? (ProcessInfo.processInfo.environment["CI"] == "true" ? 100 : 20)

    @Test func aKilledRecordIsAllOrNothingAndARetryAppliesOnce() async throws {
        try await TestGrants.withService(direct: true) { _, configuration in
            var random = SeededGenerator(state: 1000)
            var killedMidway = 0
            for trial in 0..<Self.trials {
                var target = configuration
                let name = "fault-\(trial)"
                target["application_name"] = name
                let service = GrantsService(
                    configuration: GrantsConfiguration(database: target, poolSize: 1), logger: TestGrants.quietLogger)
                let manifest = sampleManifest(
                    round: "F-\(trial)", budget: "1 000 000 000", count: 1000, amount: "1 000", prefix: "F\(trial)")
                let delay = Int.random(in: 0...1500, using: &random)
                let recording = Task { try await service.rounds.record(manifest, actor: "anna") }
                let monitor = try PGConnection(configuration: configuration)
                try await Task.sleep(for: .milliseconds(delay))
                _ = try monitor.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = \(name)")
                let outcome = await recording.result
                let count = try monitor.query(
                    "SELECT count(*) FROM grants.grant g JOIN grants.allocation_round r ON r.id = g.round_id WHERE r.name = \("F-\(trial)")"
                )[0].decode(Int64.self, column: 0)
                #expect(count == 0 || count == 1000, "trial \(trial): \(count) grants after the kill")
                if case .failure = outcome {
                    killedMidway += 1
                    #expect(count == 0, "trial \(trial): failed but wrote \(count)")
                }
                // The retry (through the same pool, which replaces the dead connection) records it once.
                let retry = try await service.rounds.record(manifest, actor: "anna")
                #expect(retry.created.count + retry.unchanged.count == 1000)
                let after = try monitor.query(
                    "SELECT count(*) FROM grants.grant g JOIN grants.allocation_round r ON r.id = g.round_id WHERE r.name = \("F-\(trial)")"
                )[0].decode(Int64.self, column: 0)
                #expect(after == 1000, "trial \(trial)")
                await service.close()
            }
            print("faults: \(Self.trials) trials, \(killedMidway) killed mid-record, 0 partial, 0 duplicated")
        }
    }
}
