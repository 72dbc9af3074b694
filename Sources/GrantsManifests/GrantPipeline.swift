import Dispatch
import Synchronization
import GrantsCore

/// Decodes a large manifest's grants on another core while the YAML parser is still reading the rest of the file.
///
/// The parser hands over each grant's node as it completes; once the round's currency is known (its `round`
/// mapping comes first, as in every manifest we write), grants are decoded in batches on a serial background queue.
/// ``ManifestDecoder/decode(_:predecoded:)`` uses the batches when they cover every grant with the currency it
/// settles on, and otherwise decodes as before: the result is the same either way.
final class GrantPipeline: Sendable {
    /// Grants decoded in order from index 0, each batch with the problems it found.
    struct Decoded: Sendable {
        var currency: Currency
        var count = 0
        var grants: [ManifestGrant] = []
        var problems: [Problem] = []
        var skipped: [SkippedGrant] = []
    }

    private struct State {
        var currency: Currency?
        /// False once a grant came before the round, or out of order: the decoder then does it all itself.
        var usable = true
        var batch: [(index: Int, node: ManifestNode)] = []
        var next = 0
    }

    private static let batchSize = 500
    private let queue = DispatchQueue(label: "grants.manifest.decode")
    private let state = Mutex(State())
    private let decoded = Mutex<Decoded?>(nil)

    /// The parser's observer: only ever called from the parsing thread.
    func take(_ key: String, _ index: Int?, _ node: ManifestNode) {
        if key == "round", index == nil {
            state.withLock { $0.currency = Self.currency(of: node) }
            return
        }
        guard key == "grants", let index else { return }
        let full: (Currency, [(index: Int, node: ManifestNode)])? = state.withLock { state in
            guard state.usable, let currency = state.currency, index == state.next else {
                state.usable = false
                return nil
            }
            state.next += 1
            state.batch.append((index, node))
            guard state.batch.count == Self.batchSize else { return nil }
            defer { state.batch = [] }
            return (currency, state.batch)
        }
        if let (currency, batch) = full { queue.async { self.decode(batch, currency: currency) } }
    }

    /// After the parse: the last batch, then everything decoded (nil when the pipeline could not be used).
    func finish() -> Decoded? {
        let last: (Currency, [(index: Int, node: ManifestNode)])? = state.withLock { state in
            guard state.usable, let currency = state.currency else { return nil }
            return (currency, state.batch)
        }
        guard let (currency, batch) = last else {
            queue.sync {}
            return nil
        }
        queue.sync { decode(batch, currency: currency) }
        return decoded.withLock { $0 }
    }

    private func decode(_ batch: [(index: Int, node: ManifestNode)], currency: Currency) {
        // The path each grant has in the parsed tree (`MappingReader.list`): its problems are placed the same.
        let found = ManifestDecoder.decodeGrants(batch.lazy.map { (node: $0.node, path: "grants[\($0.index)]") }, currency: currency)
        decoded.withLock { decoded in
            var result = decoded ?? Decoded(currency: currency)
            result.count += batch.count
            result.grants += found.grants
            result.problems += found.problems
            result.skipped += found.skipped
            decoded = result
        }
    }

    /// The currency the decoder settles on for a `round` node: its `currency` when that is an ISO 4217 code we know,
    /// else SEK (an unknown code is reported by the decoder, which then also uses SEK).
    static func currency(of round: ManifestNode) -> Currency {
        guard case .mapping(let pairs, _) = round, let value = pairs.first(where: { $0.key == "currency" })?.value,
            case .scalar(let code, _) = value, let currency = Currency(activeCode: code)
        else { return .sek }
        return currency
    }
}
