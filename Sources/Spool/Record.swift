// Record: the small YAML records the spool writes (lease, progress, result): a value tree that is
// emitted as block YAML, and a reader for the top-level scalars of records the spool wrote itself.

import Foundation

/// A YAML value of a spool record; maps keep their key order.
public indirect enum RecordValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([RecordValue])
    case map([RecordField])
}

/// One key of a record map.
public struct RecordField: Sendable, Equatable {
    public var key: String
    public var value: RecordValue
    /// Creates a field.
    public init(_ key: String, _ value: RecordValue) {
        self.key = key
        self.value = value
    }
}

extension RecordValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral,
    ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: RecordValue...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, RecordValue)...) {
        self = .map(elements.map { RecordField($0.0, $0.1) })
    }
    public init(nilLiteral: ()) { self = .null }
}

extension RecordValue {
    /// The value of `key` in a map (nil for other values or a missing key).
    public subscript(key: String) -> RecordValue? {
        guard case let .map(fields) = self else { return nil }
        return fields.last { $0.key == key }?.value
    }

    /// The string of a `.string` value.
    public var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    /// The integer of an `.int` value.
    public var intValue: Int? {
        if case let .int(i) = self { return i }
        return nil
    }

    /// The number of an `.int` or `.double` value.
    public var doubleValue: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .double(d): return d
        default: return nil
        }
    }

    /// The flag of a `.bool` value.
    public var boolValue: Bool? {
        if case let .bool(b) = self { return b }
        return nil
    }
}

// MARK: emitting

enum RecordYAML {
    /// Block YAML for a map (one `key: value` per line, nested maps and lists indented by two).
    static func emit(_ fields: [RecordField]) -> String {
        var out = ""
        emitMap(fields, indent: 0, into: &out)
        return out
    }

    private static func emitMap(_ fields: [RecordField], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for field in fields {
            out += pad + key(field.key) + ":"
            emitNested(field.value, indent: indent, into: &out)
        }
    }

    /// Emits what follows a `key:` or `-`: a scalar on the same line, or a block on the next lines.
    private static func emitNested(_ value: RecordValue, indent: Int, into out: inout String) {
        switch value {
        case let .map(fields) where !fields.isEmpty:
            out += "\n"
            emitMap(fields, indent: indent + 2, into: &out)
        case let .list(items) where !items.isEmpty:
            out += "\n"
            let pad = String(repeating: " ", count: indent + 2)
            for item in items {
                out += pad + "-"
                emitNested(item, indent: indent + 2, into: &out)
            }
        default:
            out += " " + scalar(value) + "\n"
        }
    }

    private static func scalar(_ value: RecordValue) -> String {
        switch value {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .double(d):
            if d.isNaN { return ".nan" }
            if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
            let text = String(d)
            return text.contains(".") || text.contains("e") ? text : text + ".0"
        case let .string(s): return quote(s)
        case .list: return "[]"
        case .map: return "{}"
        }
    }

    private static func key(_ key: String) -> String {
        let plain =
            !key.isEmpty
            && key.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-" || $0 == "."
            }
        return plain ? key : quote(key)
    }

    /// A YAML double-quoted string.
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\x%02X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    // MARK: reading

    /// The top-level scalar fields of a record written by `emit` (nested blocks are skipped).
    static func readTopLevel(_ text: String, path: String) throws -> [String: RecordValue] {
        var fields: [String: RecordValue] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(rawLine)
            if line.isEmpty || line.hasPrefix(" ") || line.hasPrefix("-") || line.hasPrefix("#") { continue }
            guard let (key, rest) = splitKey(line) else {
                throw SpoolError.malformedRecord(path: path, line: index + 1, reason: "expected `key: value`")
            }
            if rest.isEmpty { continue }  // a nested block follows
            guard let value = parseScalar(rest) else {
                throw SpoolError.malformedRecord(path: path, line: index + 1, reason: "bad value `\(rest)`")
            }
            fields[key] = value
        }
        return fields
    }

    private static func splitKey(_ line: String) -> (String, String)? {
        if line.hasPrefix("\"") {
            guard let (key, end) = unquote(line[...]), line[end...].hasPrefix(":") else { return nil }
            let rest = line[line.index(after: end)...].trimmingCharacters(in: .whitespaces)
            return (key, rest)
        }
        guard let colon = line.firstIndex(of: ":") else { return nil }
        let rest = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        return (String(line[..<colon]), rest)
    }

    private static func parseScalar(_ text: String) -> RecordValue? {
        switch text {
        case "null", "~": return .null
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "[]": return .list([])
        case "{}": return .map([])
        case ".nan": return .double(.nan)
        case ".inf": return .double(.infinity)
        case "-.inf": return .double(-.infinity)
        default: break
        }
        if text.hasPrefix("\"") {
            guard let (s, end) = unquote(text[...]), end == text.endIndex else { return nil }
            return .string(s)
        }
        if let i = Int(text) { return .int(i) }
        if let d = Double(text) { return .double(d) }
        return .string(text)
    }

    /// Decodes a double-quoted string at the start of `text`; returns it and the index after it.
    private static func unquote(_ text: Substring) -> (String, String.Index)? {
        var out = ""
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let c = text[index]
            if c == "\"" { return (out, text.index(after: index)) }
            if c == "\\" {
                index = text.index(after: index)
                guard index < text.endIndex else { return nil }
                switch text[index] {
                case "n": out += "\n"
                case "t": out += "\t"
                case "r": out += "\r"
                case "x":
                    let start = text.index(after: index)
                    guard let end = text.index(start, offsetBy: 2, limitedBy: text.endIndex),
                        let code = UInt32(text[start..<end], radix: 16), let scalar = Unicode.Scalar(code)
                    else { return nil }
                    out.unicodeScalars.append(scalar)
                    index = text.index(before: end)
                default: out.append(text[index])
                }
            } else {
                out.append(c)
            }
            index = text.index(after: index)
        }
        return nil
    }
}
