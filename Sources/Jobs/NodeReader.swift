// NodeReader: typed reading of YAML nodes with error collection. Each accessor records a diagnostic at
// the offending node (wrong type, out of range, unknown key with "did you mean") and returns nil, so a
// file's problems are all reported at once.

struct NodeReader {
    let sink: DiagnosticSink

    /// The entries of a mapping, after reporting unknown keys (`what` names the mapping in messages).
    func mapping(_ node: YAMLNode, known: [String], what: String) -> [String: YAMLPair]? {
        guard case .mapping(let pairs) = node.content else {
            sink.error(
                node.mark, "\(what) must be a mapping, not \(node.kindDescription)", hint: "write `key: value` lines")
            return nil
        }
        var entries: [String: YAMLPair] = [:]
        for pair in pairs {
            if known.contains(pair.key) {
                entries[pair.key] = pair
            } else {
                let suggestion = Suggestions.didYouMean(pair.key, in: known)
                sink.error(
                    pair.keyMark, "unknown key '\(pair.key)' in \(what)\(suggestion)",
                    hint: "known keys: \(known.joined(separator: ", "))")
            }
        }
        return entries
    }

    /// An integer in `range`.
    func int(_ node: YAMLNode, key: String, in range: ClosedRange<Int>, hint: String = "") -> Int? {
        guard case .int(let value)? = node.resolved else {
            typeError(node, key: key, expected: "an integer")
            return nil
        }
        guard range.contains(value) else {
            sink.error(
                node.mark, "'\(key)' is \(value), outside \(Self.describe(range))",
                hint: hint.isEmpty ? "use a value in \(Self.describe(range))" : hint)
            return nil
        }
        return value
    }

    /// A finite number in `range` (integers are accepted).
    func double(_ node: YAMLNode, key: String, in range: ClosedRange<Double>, hint: String = "") -> Double? {
        let value: Double
        switch node.resolved {
        case .int(let i)?: value = Double(i)
        case .float(let d)?: value = d
        default:
            typeError(node, key: key, expected: "a number")
            return nil
        }
        guard value.isFinite, range.contains(value) else {
            sink.error(
                node.mark, "'\(key)' is \(YAMLWriter.double(value)), outside \(range.lowerBound)...\(range.upperBound)",
                hint: hint.isEmpty ? "use a value in \(range.lowerBound)...\(range.upperBound)" : hint)
            return nil
        }
        return value
    }

    /// A string: any scalar except null (plain numbers give their text).
    func string(_ node: YAMLNode, key: String, allowEmpty: Bool = true) -> String? {
        guard case .scalar(let text, _) = node.content, node.resolved != .null else {
            typeError(node, key: key, expected: "a string")
            return nil
        }
        guard allowEmpty || !text.isEmpty else {
            sink.error(node.mark, "'\(key)' is empty", hint: "give a value or remove the key")
            return nil
        }
        return text
    }

    /// A boolean (true/false; yes/no/on/off also accepted).
    func bool(_ node: YAMLNode, key: String) -> Bool? {
        if case .bool(let b)? = node.resolved { return b }
        if case .scalar(let text, .plain) = node.content, node.tag == nil {
            switch text.lowercased() {
            case "yes", "on": return true
            case "no", "off": return false
            default: break
            }
        }
        typeError(node, key: key, expected: "true or false")
        return nil
    }

    /// One of `values` (a plain or quoted string).
    func choice(_ node: YAMLNode, key: String, _ values: [String]) -> String? {
        guard let text = string(node, key: key) else { return nil }
        guard values.contains(text) else {
            sink.error(
                node.mark,
                "'\(key)' must be \(Suggestions.list(values)), not '\(text)'"
                    + Suggestions.didYouMean(text, in: values),
                hint: "use one of: \(values.joined(separator: ", "))")
            return nil
        }
        return text
    }

    /// Reports a missing required key at the mapping's start.
    func missing(_ key: String, in node: YAMLNode, what: String, hint: String) {
        missing(key, at: node.mark, what: what, hint: hint)
    }

    /// Reports a missing required key at `mark` (e.g. the key that opens the mapping).
    func missing(_ key: String, at mark: YAMLMark, what: String, hint: String) {
        sink.error(mark, "\(what) is missing the required key '\(key)'", hint: hint)
    }

    func typeError(_ node: YAMLNode, key: String, expected: String) {
        var hint = "write \(expected) for '\(key)'"
        if case .scalar(_, let style) = node.content, style == .singleQuoted || style == .doubleQuoted {
            hint += " (quoted values are strings; remove the quotes)"
        }
        if case .null? = node.resolved { hint += ", or remove the key to use the default" }
        sink.error(node.mark, "'\(key)' must be \(expected), not \(node.kindDescription)", hint: hint)
    }

    static func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == Int.max { return "\(range.lowerBound) or more" }
        return "\(range.lowerBound)...\(range.upperBound)"
    }
}
