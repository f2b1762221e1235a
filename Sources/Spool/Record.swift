// Record: the small YAML records the spool writes (lease, progress, cancel request, result). They are
// Jobs' `YAMLValue` trees, written by Jobs' `YAMLWriter` and read back with Jobs' `YAMLParser`, so the
// result records of the daemon and the spool's own records share one emitter and one reader.

import Foundation
import Jobs

enum RecordYAML {
    /// Block YAML for a map (one `key: value` per line, nested maps and lists indented by two).
    static func emit(_ fields: [(String, YAMLValue)]) -> String {
        YAMLWriter.emit(.mapping(fields))
    }

    /// The top-level fields of a record (values of any depth); a later duplicate key wins.
    static func readTopLevel(_ text: String, path: String) throws -> [String: YAMLValue] {
        let root: YAMLNode?
        do {
            root = try YAMLParser.parse(text, file: path)
        } catch let error as JobError {
            let first = error.diagnostics.first
            throw SpoolError.malformedRecord(
                path: path, line: max(1, first?.line ?? 1), reason: first?.message ?? "\(error)")
        }
        guard let root else { return [:] }
        guard case let .mapping(fields) = YAMLValue(root) else {
            throw SpoolError.malformedRecord(path: path, line: root.mark.line, reason: "expected `key: value` lines")
        }
        var map: [String: YAMLValue] = [:]
        for (key, value) in fields { map[key] = value }
        return map
    }
}

extension YAMLValue {
    /// The value of `key` in a mapping (nil for other values or a missing key).
    subscript(key: String) -> YAMLValue? {
        guard case let .mapping(fields) = self else { return nil }
        return fields.last { $0.0 == key }?.1
    }

    /// The string of a `.string` value.
    var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    /// The integer of an `.int` value.
    var intValue: Int? {
        if case let .int(i) = self { return i }
        return nil
    }

    /// The number of an `.int` or `.double` value.
    var doubleValue: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .double(d): return d
        default: return nil
        }
    }

    /// The flag of a `.bool` value.
    var boolValue: Bool? {
        if case let .bool(b) = self { return b }
        return nil
    }
}
