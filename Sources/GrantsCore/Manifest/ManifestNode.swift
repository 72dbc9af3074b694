import Foundation
import Yams

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

    /// Parses YAML (JSON is YAML's flow style, so one parser reads both). Anchors and aliases are refused
    /// before anything is expanded, so an alias bomb costs nothing.
    static func parse(_ text: String) throws(GrantsError) -> ManifestNode {
        let node: Node?
        do {
            // The basic resolver: a manifest's scalars are all text to us, so Yams' regex-based tag resolution
            // (dates, numbers, booleans) would only cost time.
            node = try Yams.compose(yaml: text, Resolver.basic)
        } catch let error as YamlError {
            throw .invalidInput([Problem(yamlLocation(error), "not valid YAML or JSON: \(yamlMessage(error))")])
        } catch {
            throw .invalidInput([Problem("", "not valid YAML or JSON: \(error)")])
        }
        guard let node else { throw .invalidInput([Problem("", "the file is empty")]) }
        var seen = Set<NodePosition>()
        return try convert(node, depth: 0, seen: &seen)
    }

    /// Where a node starts. The composer resolves an alias to the very node its anchor marks, so a position
    /// met twice in one walk is an alias: refused there, before any expansion is walked.
    private struct NodePosition: Hashable {
        let kind: UInt8
        let line: Int
        let column: Int
    }

    /// Errors here name the line: building a path string for every node would cost more than the walk.
    private static func convert(_ node: Node, depth: Int, seen: inout Set<NodePosition>) throws(GrantsError) -> ManifestNode {
        let line = node.mark.map { $0.line }
        if let mark = node.mark {
            let kind: UInt8? =
                switch node {
                case .scalar(let scalar): scalar.string.isEmpty ? nil : 0
                case .mapping: 1
                case .sequence: 2
                case .alias: 3
                }
            if let kind, !seen.insert(NodePosition(kind: kind, line: mark.line, column: mark.column)).inserted {
                throw .invalidInput([Problem("line \(mark.line)", "YAML anchors and aliases are not accepted")])
            }
        }
        guard depth < ManifestLimits.maximumDepth else {
            throw .invalidInput([Problem("line \(line ?? 0)", "nested deeper than \(ManifestLimits.maximumDepth) levels")])
        }
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain
                && (scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null" || scalar.string == "Null"
                    || scalar.string == "NULL")
            {
                return .null(line: line)
            }
            return .scalar(scalar.string, line: line)
        case .mapping(let mapping):
            var pairs: [(key: String, value: ManifestNode)] = []
            pairs.reserveCapacity(mapping.count)
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw .invalidInput([Problem("line \(line ?? 0)", "a mapping key must be text")])
                }
                pairs.append((keyScalar.string, try convert(value, depth: depth + 1, seen: &seen)))
            }
            return .mapping(pairs, line: line)
        case .sequence(let sequence):
            var items: [ManifestNode] = []
            items.reserveCapacity(sequence.count)
            for item in sequence {
                items.append(try convert(item, depth: depth + 1, seen: &seen))
            }
            return .sequence(items, line: line)
        case .alias:
            throw .invalidInput([Problem("line \(line ?? 0)", "YAML anchors and aliases are not accepted")])
        }
    }

    private static func yamlLocation(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return "line \(mark.line), column \(mark.column)"
        default:
            return ""
        }
    }

    private static func yamlMessage(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        case .composer(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
        }
    }
}
