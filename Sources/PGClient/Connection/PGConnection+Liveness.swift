import CLibPQ
import Foundation

extension PGConnection {
    /// Whether an idle connection can be handed out: reads, without waiting, whatever the server sent while the
    /// connection sat idle, and answers false if that shows the session has ended.
    ///
    /// A backend that is terminated (`pg_terminate_backend`, a restart, `idle_session_timeout`) sends a FATAL
    /// error and then closes its socket. Either may not have been read yet: `poll` with a zero timeout says whether
    /// anything is waiting on the socket (data, end of stream, an error), `PQconsumeInput` reads it, and parsing it
    /// hands a FATAL that arrived while idle to the notice receiver, which remembers it. A healthy idle session has
    /// nothing to read, so this never blocks. What it cannot see is a session the server has not finished ending;
    /// ``PGPool/transaction(isolation:readOnly:retry:_:)`` starts again on a fresh connection when BEGIN fails
    /// that way.
    func checkAlive() -> Bool {
        guard isIdle else { return false }
        let socket = PQsocket(handle)
        guard socket >= 0 else {
            markBroken()
            return false
        }
        // Bounded: a live session may have sent a few NOTIFYs or parameter changes, never an endless stream.
        for _ in 0..<8 {
            guard PQconsumeInput(handle) == 1, PQstatus(handle) == CONNECTION_OK else {
                markBroken()
                return false
            }
            _ = PQisBusy(handle)  // parses what arrived, so a FATAL reaches the notice receiver
            while let notification = PQnotifies(handle) { PQfreemem(notification) }
            if sessionEnd.endedByServer {
                markBroken()
                return false
            }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 0)
            if ready == 0 { return true }
            if ready < 0 && errno != EINTR {
                markBroken()
                return false
            }
            if descriptor.revents & Int16(POLLERR | POLLNVAL) != 0 {
                markBroken()
                return false
            }
            // Readable, or the peer hung up: the next PQconsumeInput reads the data or meets the end of the stream.
        }
        return isIdle
    }
}

/// Remembers that the server ended the session while the connection was idle: libpq hands an error that
/// arrives outside a query to the notice receiver, where it would otherwise go unseen.
final class PGSessionEnd {
    // Written only by libpq's notice receiver, which runs inside libpq calls on the connection's own thread.
    var endedByServer = false

    /// A notice receiver for `PQsetNoticeReceiver`, its argument an unretained `PGSessionEnd`. Ordinary notices
    /// (NOTICE, WARNING) are dropped, as they would otherwise go to the embedding program's stderr.
    static let receiver: PQnoticeReceiver = { argument, result in
        guard let argument, let result else { return }
        let field = PQresultErrorField(result, Int32(UInt8(ascii: "V"))) ?? PQresultErrorField(result, Int32(UInt8(ascii: "S")))
        guard let field else { return }
        let severity = String(cString: field)
        if severity == "FATAL" || severity == "PANIC" {
            Unmanaged<PGSessionEnd>.fromOpaque(argument).takeUnretainedValue().endedByServer = true
        }
    }
}
