// YAMLWriter: a typed YAML value and its block-style emitter, for result records. Strings are written
// plain only when a YAML 1.1/1.2 reader cannot take them for anything else; otherwise double-quoted.

/// A YAML value to write; mappings keep their key order.
public indirect enum YAMLValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case sequence([YAMLValue])
    case mapping([(String, YAMLValue)])

    public static func == (a: YAMLValue, b: YAMLValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): return x == y
        case let (.sequence(x), .sequence(y)): return x == y
        case let (.mapping(x), .mapping(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

extension YAMLValue {
    /// The block-style YAML text of this value, ending in a newline.
    public var yaml: String { YAMLWriter.emit(self) }

    /// The value a parsed node stands for (scalars resolved by the core schema).
    public init(_ node: YAMLNode) {
        switch node.content {
        case .sequence(let items): self = .sequence(items.map(YAMLValue.init))
        case .mapping(let pairs): self = .mapping(pairs.map { ($0.key, YAMLValue($0.value)) })
        case .scalar(let text, _):
            switch node.resolved ?? .string(text) {
            case .null: self = .null
            case .bool(let b): self = .bool(b)
            case .int(let i): self = .int(i)
            case .float(let d): self = .double(d)
            case .string(let s): self = .string(s)
            }
        }
    }
}

/// Emits `YAMLValue`s as block YAML (two-space indentation).
public enum YAMLWriter {
    /// The YAML text of `value`, ending in a newline.
    public static func emit(_ value: YAMLValue) -> String {
        var out = ""
        switch value {
        case .mapping(let pairs) where !pairs.isEmpty: emitMapping(pairs, indent: 0, into: &out)
        case .sequence(let items) where !items.isEmpty: emitSequence(items, indent: 0, into: &out)
        default: out = scalar(value) + "\n"
        }
        return out
    }

    private static func emitMapping(_ pairs: [(String, YAMLValue)], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for (key, value) in pairs {
            out += pad + string(key) + ":"
            emitNested(value, indent: indent, into: &out)
        }
    }

    private static func emitSequence(_ items: [YAMLValue], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            if case .mapping(let pairs) = item, !pairs.isEmpty {
                // Compact form: the first key shares the line with the dash.
                var block = ""
                emitMapping(pairs, indent: indent + 2, into: &block)
                // Drop the indentation by scalars: a key that starts with a combining mark forms one
                // Character with the space before it, and dropping Characters would eat the mark.
                out += pad + "- " + String(block.unicodeScalars.dropFirst(indent + 2))
            } else {
                out += pad + "-"
                emitNested(item, indent: indent, into: &out)
            }
        }
    }

    /// What follows `key:` or `-`: a scalar on the same line, or a block indented below.
    private static func emitNested(_ value: YAMLValue, indent: Int, into out: inout String) {
        switch value {
        case .mapping(let pairs) where !pairs.isEmpty:
            out += "\n"
            emitMapping(pairs, indent: indent + 2, into: &out)
        case .sequence(let items) where !items.isEmpty:
            out += "\n"
            emitSequence(items, indent: indent + 2, into: &out)
        default:
            out += " " + scalar(value) + "\n"
        }
    }

    private static func scalar(_ value: YAMLValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return double(d)
        case .string(let s): return string(s)
        case .sequence: return "[]"
        case .mapping: return "{}"
        }
    }

    /// Shortest round-tripping decimal, always with a `.` so YAML 1.1 readers see a float.
    static func double(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        var text = "\(d)"
        if !text.contains(".") {
            if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
                text.insert(contentsOf: ".0", at: e)
            } else {
                text += ".0"
            }
        }
        return text
    }

    /// A string, plain when unambiguous, else double-quoted with escapes.
    static func string(_ s: String) -> String { isPlainSafe(s) ? s : quoted(s) }

    /// Words that YAML 1.1 resolves to booleans or null (besides numbers).
    private static let reserved: Set<String> = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
    ]

    static func isPlainSafe(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return false }
        if reserved.contains(s.lowercased()) { return false }
        if case .string = YAMLNode.resolvePlain(s) {} else { return false }
        if first.properties.isWhitespace || last.properties.isWhitespace { return false }
        if "-?:,[]{}#&*!|>'\"%@`.+0123456789".unicodeScalars.contains(first) { return false }
        if s.contains(": ") || s.contains(" #") || s.hasSuffix(":") { return false }
        for scalar in s.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) { return false }
            if "\u{FEFF}\u{2028}\u{2029}\u{85}".unicodeScalars.contains(scalar) { return false }
            if ",[]{}".unicodeScalars.contains(scalar) { return false }  // safe inside flow collections too
        }
        return true
    }

    /// A YAML double-quoted string.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
                    || scalar.value == 0xFEFF || scalar.value == 0x2028 || scalar.value == 0x2029
                {
                    out +=
                        "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16, uppercase: true)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
