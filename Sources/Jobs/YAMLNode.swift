// YAMLNode: the parsed YAML tree (scalars keep their style and tag, mappings keep key order), each node
// with its 1-based line:column, plus the core-schema resolution of plain scalars used by the decoders.

/// A 1-based position in a YAML source file.
public struct YAMLMark: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    /// 1-based line.
    public var line: Int
    /// 1-based column, counted in Unicode scalars.
    public var column: Int
    /// Creates a mark.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public var description: String { "\(line):\(column)" }
}

/// How a scalar was written in the source.
public enum YAMLScalarStyle: Sendable, Equatable {
    case plain, singleQuoted, doubleQuoted, literal, folded
}

/// One node of a parsed YAML document.
public struct YAMLNode: Sendable {
    /// The node's content.
    public enum Content: Sendable {
        case scalar(String, YAMLScalarStyle)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }
    /// What the node holds.
    public var content: Content
    /// Where the node starts.
    public var mark: YAMLMark
    /// The resolved explicit tag (`tag:yaml.org,2002:str` for `!!str`), nil when untagged.
    public var tag: String?

    /// Creates a node.
    public init(_ content: Content, mark: YAMLMark, tag: String? = nil) {
        self.content = content
        self.mark = mark
        self.tag = tag
    }
}

/// One `key: value` entry of a mapping (keys are scalars).
public struct YAMLPair: Sendable {
    /// The key text.
    public var key: String
    /// Where the key starts.
    public var keyMark: YAMLMark
    /// The value node.
    public var value: YAMLNode
}

/// The core-schema type a plain scalar resolves to.
public enum YAMLScalarKind: Sendable, Equatable {
    case null, bool(Bool), int(Int), float(Double), string(String)
}

extension YAMLNode {
    static let coreTagPrefix = "tag:yaml.org,2002:"

    /// A short noun for messages: "a mapping", "a sequence", "the string \"x\"", "the integer 3".
    public var kindDescription: String {
        switch content {
        case .mapping: return "a mapping"
        case .sequence: return "a sequence"
        case .scalar(let text, _):
            switch resolved ?? .string(text) {
            case .null: return "null"
            case .bool(let b): return "the boolean \(b)"
            case .int(let i): return "the integer \(i)"
            case .float: return "the number \(text)"
            case .string(let s): return "the string \"\(s.count > 40 ? String(s.prefix(40)) + "…" : s)\""
            }
        }
    }

    /// The scalar's type: quoted, block and `!!str` scalars are strings; plain ones follow the core schema
    /// (null/~/empty, true/false, decimal integers, floats with `.inf`/`.nan`). Nil for collections.
    public var resolved: YAMLScalarKind? {
        guard case .scalar(let text, let style) = content else { return nil }
        if let tag, tag.hasPrefix(Self.coreTagPrefix) {
            switch tag.dropFirst(Self.coreTagPrefix.count) {
            case "str": return .string(text)
            case "null": return .null
            case "bool": return Self.resolveBool(text).map { .bool($0) } ?? .string(text)
            case "int": return Self.resolveInt(text).map { .int($0) } ?? .string(text)
            case "float":
                if let i = Self.resolveInt(text) { return .float(Double(i)) }
                return Self.resolveFloat(text).map { .float($0) } ?? .string(text)
            default: return .string(text)
            }
        }
        guard style == .plain, tag == nil else { return .string(text) }
        return Self.resolvePlain(text)
    }

    /// Core-schema resolution of a plain scalar's text.
    static func resolvePlain(_ text: String) -> YAMLScalarKind {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        default: break
        }
        if let b = resolveBool(text) { return .bool(b) }
        if let i = resolveInt(text) { return .int(i) }
        if let d = resolveFloat(text) { return .float(d) }
        return .string(text)
    }

    static func resolveBool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    /// Decimal integers with an optional sign (`08` is 8; no hex, octal or underscores).
    static func resolveInt(_ text: String) -> Int? {
        var digits = Substring(text)
        if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text.hasPrefix("+") ? String(text.dropFirst()) : text)
    }

    static func resolveFloat(_ text: String) -> Double? {
        switch text.lowercased() {
        case ".inf", "+.inf": return .infinity
        case "-.inf": return -.infinity
        case ".nan": return .nan
        default: break
        }
        let allowed = Set("0123456789+-.eE")
        guard text.contains(where: { $0.isNumber }), text.allSatisfy({ allowed.contains($0) }) else { return nil }
        return Double(text)
    }
}
