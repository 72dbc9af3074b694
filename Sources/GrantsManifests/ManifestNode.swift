import CLibYAML
import Foundation
import GrantsCore

/// A parsed YAML or JSON document reduced to what a manifest needs: text scalars (as written, never
/// reinterpreted as numbers or dates), mappings in order, sequences, and the line each came from.
indirect enum ManifestNode: Sendable {
    case scalar(String, line: Int?)
    case null(line: Int?)
    case mapping([(key: String, value: ManifestNode)], line: Int?)
    case sequence([ManifestNode], line: Int?)

    var line: Int? {
        switch self {
        case .scalar(_, let line), .null(let line), .mapping(_, let line), .sequence(_, let line): line
        }
    }

    var kindName: String {
        switch self {
        case .scalar: "a text"
        case .null: "empty"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }

    /// Parses YAML (JSON is YAML's flow style, so one parser reads both) from libyaml's events straight into
    /// manifest nodes: no intermediate document, no tag resolution (every scalar stays text as written).
    /// Anchors and aliases are refused where they first appear, so an alias bomb costs nothing; a key that
    /// appears twice in one mapping is refused, since which of the two was meant cannot be known.
    /// Called as each node under the document's top mapping completes, while the rest is still being parsed: with
    /// its key, and with its index when it is an item of a list there (`grants[3]`).
    typealias Observer = (_ key: String, _ index: Int?, _ node: ManifestNode) -> Void

    static func parse(_ text: String, observer: Observer? = nil) throws(GrantsError) -> ManifestNode {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw .internalError(sqlState: nil, message: "the YAML parser could not be set up (out of memory)")
        }
        defer { yaml_parser_delete(&parser) }
        var text = text
        // `withUTF8` rethrows untyped; the result carries the typed error out.
        let result: Result<ManifestNode, GrantsError> = text.withUTF8 { bytes in
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, bytes.baseAddress, bytes.count)
            return Result { () throws(GrantsError) -> ManifestNode in
                var builder = Builder()
                builder.observer = observer
                var event = yaml_event_t()
                while true {
                    guard yaml_parser_parse(&parser, &event) == 1 else { throw Self.syntaxError(parser) }
                    defer { yaml_event_delete(&event) }
                    if event.type == YAML_STREAM_END_EVENT { break }
                    try builder.take(event)
                }
                guard let root = builder.root else { throw .invalidInput([Problem("", "the file is empty")]) }
                return root
            }
        }
        return try result.get()
    }

    /// Builds nodes from events with a stack of open mappings and sequences.
    private struct Builder {
        /// An open mapping or sequence. A class, so that appending to the innermost one never copies it.
        final class Frame {
            let isMapping: Bool
            let line: Int
            var items: [ManifestNode] = []
            /// A mapping's entries, built as pairs from the start (no zip and copy when the mapping ends).
            var pairs: [(key: String, value: ManifestNode)] = []
            var pendingKey: String?

            init(isMapping: Bool, line: Int) {
                self.isMapping = isMapping
                self.line = line
            }
        }

        var stack: [Frame] = []
        var root: ManifestNode?
        var documents = 0
        var observer: Observer?

        mutating func take(_ event: yaml_event_t) throws(GrantsError) {
            let line = Int(event.start_mark.line) + 1
            switch event.type {
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                guard documents == 1 else {
                    throw .invalidInput([Problem("line \(line)", "a manifest is one YAML document; this is a second one")])
                }
            case YAML_ALIAS_EVENT:
                throw Self.noAnchors(line)
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                if scalar.anchor != nil { throw Self.noAnchors(line) }
                let value = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                if let frame = stack.last, frame.isMapping, frame.pendingKey == nil {
                    // Mappings are small (a dozen keys at most): a scan is cheaper than hashing every key.
                    guard !frame.pairs.contains(where: { $0.key == value }) else {
                        throw .invalidInput([Problem("line \(line)", "the key \(value) appears twice in one mapping")])
                    }
                    frame.pendingKey = value
                    return
                }
                let plainNull =
                    scalar.style == YAML_PLAIN_SCALAR_STYLE
                    && (value.isEmpty || value == "~" || value == "null" || value == "Null" || value == "NULL")
                try add(plainNull ? .null(line: line) : .scalar(value, line: line), line: line)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let isMapping = event.type == YAML_MAPPING_START_EVENT
                let anchor = isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor
                if anchor != nil { throw Self.noAnchors(line) }
                if let frame = stack.last, frame.isMapping, frame.pendingKey == nil {
                    throw .invalidInput([Problem("line \(line)", "a mapping key must be text")])
                }
                guard stack.count < ManifestLimits.maximumDepth else {
                    throw .invalidInput([Problem("line \(line)", "nested deeper than \(ManifestLimits.maximumDepth) levels")])
                }
                stack.append(Frame(isMapping: isMapping, line: line))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { return }
                let node: ManifestNode =
                    frame.isMapping
                    ? .mapping(frame.pairs, line: frame.line)
                    : .sequence(frame.items, line: frame.line)
                try add(node, line: frame.line)
            default:
                break
            }
        }

        /// Puts a finished node where it belongs: as the value of the pending key, the next item, or the root.
        mutating func add(_ node: ManifestNode, line: Int) throws(GrantsError) {
            guard let frame = stack.last else {
                root = node
                return
            }
            if frame.isMapping {
                guard let key = frame.pendingKey else {
                    throw .invalidInput([Problem("line \(line)", "a mapping key must be text")])
                }
                if stack.count == 1 { observer?(key, nil, node) }
                frame.pairs.append((key: key, value: node))
                frame.pendingKey = nil
            } else {
                if stack.count == 2, let top = stack.first, top.isMapping, let key = top.pendingKey {
                    observer?(key, frame.items.count, node)
                }
                frame.items.append(node)
            }
        }

        static func noAnchors(_ line: Int) -> GrantsError {
            .invalidInput([Problem("line \(line)", "YAML anchors and aliases are not accepted")])
        }
    }

    private static func syntaxError(_ parser: yaml_parser_t) -> GrantsError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unreadable"
        let context = parser.context.map { String(cString: $0) }
        let mark = parser.problem_mark
        let message = [context, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        return .invalidInput([
            Problem("line \(mark.line + 1), column \(mark.column + 1)", "not valid YAML or JSON: \(message)")
        ])
    }
}
