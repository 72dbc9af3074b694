import Foundation
import Grants
import PGClient
import Synchronization
import TestSupport
import Testing

/// A loopback TCP proxy to the test server's Unix socket that, when armed, drops the connection right before
/// the `ReadyForQuery` that ends a transaction (status idle after a command): the transaction is committed,
/// whether it was BEGIN … COMMIT or one statement on its own, and the client never hears.
final class CuttingProxy: Sendable {
    let port: UInt16
    private let listener: Int32
    private let target: String
    private let armed = Mutex(0)
    private let cuts = Atomic<Int>(0)

    init(unixSocket target: String) throws {
        self.target = target
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else { throw ProxyError.setup }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        Thread { [self] in acceptLoop() }.start()
    }

    /// The next reply that ends a transaction, on any connection, is dropped.
    func armCut() { armed.withLock { $0 += 1 } }
    var cutCount: Int { cuts.load(ordering: .relaxed) }

    func close() {
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
    }

    private func takeCut() -> Bool {
        armed.withLock { pending in
            guard pending > 0 else { return false }
            pending -= 1
            return true
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let server = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                for (i, byte) in target.utf8.prefix(buffer.count - 1).enumerated() { buffer[i] = byte }
            }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard connected == 0 else {
                Glibc.close(client)
                Glibc.close(server)
                continue
            }
            let pair = SocketPair(client: client, server: server)
            Thread {
                Self.pump(from: client, to: server)
                pair.release()
            }.start()
            Thread { [self] in
                serverToClient(server: server, client: client)
                pair.release()
            }.start()
        }
    }

    private static func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(source, &buffer, buffer.count)
            if n <= 0 || write(destination, buffer, n) != n { break }
        }
        shutdown(source, Int32(SHUT_RDWR))
        shutdown(destination, Int32(SHUT_RDWR))
    }

    /// Forwards whole protocol messages (type byte, length) and drops the connection at an armed transaction's end.
    private func serverToClient(server: Int32, client: Int32) {
        var pending: [UInt8] = []
        // A command completed since the last ReadyForQuery: the one that ends the start-up is not a transaction's.
        var commandCompleted = false
        var buffer = [UInt8](repeating: 0, count: 65_536)
        // Shut down, not closed: the other direction's thread may still be reading these descriptors, and a
        // closed number would be reused by the next connection. The last thread of the pair closes them.
        defer {
            shutdown(server, Int32(SHUT_RDWR))
            shutdown(client, Int32(SHUT_RDWR))
        }
        while true {
            let n = read(server, &buffer, buffer.count)
            if n <= 0 { return }
            pending += buffer[0..<n]
            var forward: [UInt8] = []
            while pending.count >= 5 {
                let length = Int(pending[1]) << 24 | Int(pending[2]) << 16 | Int(pending[3]) << 8 | Int(pending[4])
                guard pending.count >= 1 + length else { break }
                let message = pending[0..<(1 + length)]
                if message.first == UInt8(ascii: "C") { commandCompleted = true }
                let endsTransaction = message.first == UInt8(ascii: "Z") && message.last == UInt8(ascii: "I") && commandCompleted
                if message.first == UInt8(ascii: "Z") { commandCompleted = false }
                if endsTransaction, takeCut() {
                    if !forward.isEmpty { _ = write(client, forward, forward.count) }
                    cuts.add(1, ordering: .relaxed)
                    return
                }
                forward += message
                pending.removeFirst(1 + length)
            }
            if !forward.isEmpty && write(client, forward, forward.count) != forward.count { return }
        }
    }
}

enum ProxyError: Error { case setup }

/// Closes a proxied connection's two descriptors once both of its threads are done with them.
final class SocketPair: Sendable {
    let client: Int32
    let server: Int32
    private let users = Mutex(2)

    init(client: Int32, server: Int32) {
        self.client = client
        self.server = server
    }

    func release() {
        let last = users.withLock { count in
            count -= 1
            return count == 0
        }
        if last {
            Glibc.close(client)
            Glibc.close(server)
        }
    }
}

@Suite("Lost replies")
struct LostReplyTests {
    static let trials = Int(ProcessInfo.processInfo.environment["GRANTS_LOST_REPLY_TRIALS"] ?? "") ?? 200

    /// The connection is cut after the server commits and before the client reads the reply; the caller's
    /// retry with the same idempotency key (or the same natural key) applies once.
    @Test func aRetryAfterALostCommitReplyAppliesOnce() async throws {
        try await TestGrants.withService(direct: true) { setup, configuration in
            try await seedRound(setup, budget: "100 000 000")
            for i in 0..<Self.trials { try await setup.applications.submit(application("L-\(i)", amount: "100"), actor: "anna") }
            try await setup.applications.submit(application("POOL", amount: "10 000 000"), actor: "anna")
            try await setup.approvals.approve("POOL", amount: sek("10 000 000"), decidedOn: day("2021-12-01"), actor: "anna")

            let socket = "\(configuration["host"] ?? "/tmp")/.s.PGSQL.\(configuration["port"] ?? "5432")"
            let proxy = try CuttingProxy(unixSocket: socket)
            defer { proxy.close() }
            var proxied = configuration
            proxied["host"] = "127.0.0.1"
            proxied["port"] = String(proxy.port)
            proxied["sslmode"] = "disable"
            proxied["gssencmode"] = "disable"
            let service = GrantsService(configuration: GrantsConfiguration(database: proxied, poolSize: 1))
            var lost = 0
            var disbursementIDs = Set<Int64>()
            for i in 0..<Self.trials {
                // An explicit idempotency key (schedule) and a natural one (the reference of an approval), by turns.
                proxy.armCut()
                if i.isMultiple(of: 2) {
                    do {
                        _ = try await service.disbursements.schedule(
                            "POOL", amount: sek("100"), dueOn: day("2022-01-31"), idempotencyKey: "lost-\(i)", actor: "anna")
                        Issue.record("trial \(i): the reply was not cut")
                    } catch let caught as GrantsError where caught.code == .unavailable {
                        lost += 1
                    }
                    let retried = try await service.disbursements.schedule(
                        "POOL", amount: sek("100"), dueOn: day("2022-01-31"), idempotencyKey: "lost-\(i)", actor: "anna")
                    #expect(disbursementIDs.insert(retried.id).inserted, "trial \(i): the retry returned an earlier disbursement")
                } else {
                    do {
                        _ = try await service.approvals.approve("L-\(i)", amount: sek("100"), decidedOn: day("2021-12-01"), actor: "anna")
                        Issue.record("trial \(i): the reply was not cut")
                    } catch let caught as GrantsError where caught.code == .unavailable {
                        lost += 1
                    }
                    let grant = try await service.approvals.approve(
                        "L-\(i)", amount: sek("100"), decidedOn: day("2021-12-01"), actor: "anna")
                    #expect(grant.amount == sek("100"))
                }
            }
            let connection = try PGConnection(configuration: configuration)
            let disbursements = try connection.query("SELECT count(*) FROM grants.disbursement")[0].decode(Int64.self, column: 0)
            let grants = try connection.query("SELECT count(*) FROM grants.grant WHERE reference LIKE 'L-%'")[0].decode(
                Int64.self, column: 0)
            let keys = try connection.query("SELECT count(*) FROM grants.idempotency_key")[0].decode(Int64.self, column: 0)
            let evens = Int64((Self.trials + 1) / 2)
            #expect(disbursements == evens, "0 duplicated, 0 lost")
            #expect(keys == evens)
            #expect(grants == Int64(Self.trials) - evens)
            #expect(lost == Self.trials && proxy.cutCount == Self.trials)
            print(
                "lost replies: \(Self.trials) trials, \(proxy.cutCount) replies cut as their transactions committed, 0 lost, 0 duplicated")
            await service.close()
        }
    }
}
