import Foundation
import PGClient

/// Time in the books (DESIGN §7): every event has a business date (decided, amended, paid, reversed, settled,
/// repaid, cancelled, closed) beside the moment it was recorded. A report reads the books at a cut: the events
/// dated no later than `asOf`, of those recorded no later than `knownAt`.
extension ReportFilter {
    /// Whether an event with business date `date`, recorded at `recorded`, is in the books the filter reads.
    func holds(_ date: PGQuery, recorded: PGQuery) -> PGQuery {
        "((\(asOf)::date IS NULL OR \(date) <= \(asOf)) AND \(known(recorded)))"
    }

    /// Whether something recorded at `recorded` was known at the filter's `knownAt`.
    func known(_ recorded: PGQuery) -> PGQuery {
        "(\(knownAt)::timestamptz IS NULL OR \(recorded) <= \(knownAt))"
    }

    /// Whether a business date lies in the filter's `from`…`to`.
    func inPeriod(_ date: PGQuery) -> PGQuery {
        "((\(from)::date IS NULL OR \(date) >= \(from)) AND (\(to)::date IS NULL OR \(date) <= \(to)))"
    }

    /// The programme and round part alone, over `r` and `p` (for reports with one row per grant).
    var grantCondition: PGQuery {
        "(\(programme)::text IS NULL OR p.name = \(programme)) AND (\(round)::text IS NULL OR r.name = \(round))"
    }

    /// Whether grant `g`, decided by approval `ap`, is in the books: decided by `asOf`, recorded by `knownAt`.
    var grantHolds: PGQuery { holds("ap.decided_on", recorded: "g.created_at") }

    /// Whether grant `g`'s closing (and with it its reclaim and write-off) is in the books.
    var closingHolds: PGQuery { "(g.status = 'closed' AND \(holds("g.closed_on", recorded: "g.closed_at")))" }
}
