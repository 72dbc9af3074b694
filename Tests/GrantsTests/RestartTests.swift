import Foundation
import Grants
import PGClient
import TestSupport
import Testing

@Suite("Server restart")
struct RestartTests {
    /// A stream of approvals and payments while the server is restarted with `-m immediate` (a crash): every
    /// acknowledged write is there once, retries of the unacknowledged ones apply once, and the same pool
    /// carries on without restarting the process.
    @Test func acknowledgedWritesSurviveAnImmediateRestart() async throws {
        let folder = "/tmp/grants-restart-\(UUID().uuidString.prefix(8))"
        let port = String(Int.random(in: 40_000...49_999))
        let script = repositoryRoot.appendingPathComponent("Scripts/pg-local").path
        // Durable settings: with --throwaway (synchronous_commit off) a crash may lose acknowledged commits,
        // which is exactly what this test must not see.
        let started = try runTool([script, "start", folder], environment: ["GRANTS_PG_PORT": port])
        defer {
            _ = try? runTool([script, "stop", folder])
            try? FileManager.default.removeItem(atPath: folder)
        }
        try #require(started.status == 0, "\(started.output)")
        let configuration = PGConfiguration(parameters: [
            "host": folder + "/socket", "port": port, "user": "postgres", "dbname": "postgres",
        ])
        let service = GrantsService(
            configuration: GrantsConfiguration(database: configuration, poolSize: 2), logger: TestGrants.quietLogger)
        try await service.migrate()
        try await service.persons.add("anna", name: "Anna", actor: nil)
        try await service.persons.add("bertil", name: "Bertil", actor: "anna")
        try await seedRound(service, budget: "10 000 000")

        /// Retries an idempotent write until the server is back (bounded).
        func persist<T: Sendable>(_ operation: () async throws -> T) async throws -> T {
            for _ in 0..<200 {
                do {
                    return try await operation()
                } catch let caught as GrantsError where caught.code == .unavailable {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            throw GrantsError.unavailable(cause: "the server did not come back")
        }

        var acknowledged: [String] = []
        var failures = 0
        let restart = RestartThread(arguments: [script, "crash-restart", folder], port: port)
        for i in 0..<120 {
            if i == 40 {
                // On a thread of its own (not the cooperative pool, which a busy test run may keep full), so the
                // crash lands while the next writes are in flight.
                restart.start()
                restart.waitUntilRunning()
            }
            let reference = "R-\(i)"
            // The calls answered so far: a caller whose call was not answered retries that call and the ones after
            // it, with the same keys, as a caller that knows which call failed would (an unanswered payment may have
            // been made: attesting again then would be refused as paid → attested).
            var answered = 0
            var disbursement: Disbursement?
            func call(_ step: Int, _ body: () async throws -> Void) async throws {
                guard answered <= step else { return }
                try await body()
                answered = step + 1
            }
            func sequence() async throws {
                try await call(0) {
                    _ = try await service.applications.submit(application(reference, amount: "10 000"), actor: "anna")
                }
                try await call(1) {
                    _ = try await service.approvals.approve(reference, amount: sek("10 000"), decidedOn: day("2021-12-01"), actor: "anna")
                }
                try await call(2) {
                    disbursement = try await service.disbursements.schedule(
                        reference, amount: sek("10 000"), dueOn: day("2022-01-31"), idempotencyKey: "sched-\(reference)", actor: "anna")
                }
                guard let d = disbursement else { return }
                try await call(3) { _ = try await service.disbursements.attest(d.id, actor: "bertil") }
                try await call(4) {
                    _ = try await service.disbursements.pay(
                        d.id, paidOn: day("2022-02-01"), paymentReference: "P-\(reference)", actor: "bertil")
                }
            }
            do {
                try await sequence()
            } catch let caught as GrantsError where caught.code == .unavailable {
                // Not acknowledged: the caller retries with the same keys, which must apply once.
                failures += 1
                try await persist { try await sequence() }
            }
            #expect(answered == 5, "\(reference) was not carried through")
            acknowledged.append(reference)
        }
        let restarted = restart.result()
        #expect(restarted.status == 0, "\(restarted.output)")
        #expect(failures >= 1, "the restart interrupted at least one write")
        let grants = try await service.grants.list()
        #expect(grants.count == 120)
        #expect(Set(grants.map(\.reference)) == Set(acknowledged))
        #expect(grants.allSatisfy { $0.paid == sek("10 000") && $0.committed == sek("10 000") }, "paid once each")
        let disbursements = try await service.disbursements.list()
        #expect(disbursements.count == 120, "no tranche scheduled twice")
        #expect(try await service.rounds.get("R1").awarded == sek("1 200 000"))
        print("restart: 120 grants streamed, server crash-restarted once, \(failures) writes interrupted and retried, 0 lost, 0 duplicated")
        await service.close()
    }
}

/// Runs `pg-local crash-restart` on a thread and lets the test wait for it to begin and to end.
final class RestartThread: @unchecked Sendable {
    // @unchecked: `outcome` is written once by the thread before `done` is signalled and read only after.
    private let arguments: [String]
    private let port: String
    private let running = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private var outcome: (status: Int32, output: String) = (-1, "not run")

    init(arguments: [String], port: String) {
        self.arguments = arguments
        self.port = port
    }

    func start() {
        Thread {
            self.running.signal()
            self.outcome = (try? runTool(self.arguments, environment: ["GRANTS_PG_PORT": self.port])) ?? (-1, "could not run")
            self.done.signal()
        }.start()
    }

    func waitUntilRunning() { running.wait() }

    func result() -> (status: Int32, output: String) {
        done.wait()
        return outcome
    }
}
