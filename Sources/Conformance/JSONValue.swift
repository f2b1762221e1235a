// A parsed JSON document for reading fixture manifests, with typed accessors that throw errors
// naming the JSON path (so a malformed manifest says exactly what is missing).

import Foundation

public enum JSONValue: Sendable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }
}

/// A JSON value together with its path in the manifest, for error messages.
public struct ManifestNode: Sendable {
    public let value: JSONValue
    public let path: String

    public init(_ value: JSONValue, path: String) {
        self.value = value
        self.path = path
    }

    /// Member `key` of an object; throws if absent.
    public subscript(_ key: String) -> ManifestNode {
        get throws(ConformanceError) {
            guard case .object(let o) = value else { throw .manifest("\(path) is not an object") }
            guard let v = o[key] else { throw .manifest("\(path) has no key '\(key)'") }
            return ManifestNode(v, path: "\(path).\(key)")
        }
    }

    /// Member `key` if present (and not null).
    public func optional(_ key: String) -> ManifestNode? {
        guard case .object(let o) = value, let v = o[key] else { return nil }
        if case .null = v { return nil }
        return ManifestNode(v, path: "\(path).\(key)")
    }

    public var keys: [String] {
        if case .object(let o) = value { return o.keys.sorted() }
        return []
    }

    public var array: [ManifestNode] {
        get throws(ConformanceError) {
            guard case .array(let a) = value else { throw .manifest("\(path) is not an array") }
            return a.enumerated().map { ManifestNode($1, path: "\(path)[\($0)]") }
        }
    }

    public var string: String {
        get throws(ConformanceError) {
            guard case .string(let s) = value else { throw .manifest("\(path) is not a string") }
            return s
        }
    }

    public var double: Double {
        get throws(ConformanceError) {
            guard case .number(let d) = value else { throw .manifest("\(path) is not a number") }
            return d
        }
    }

    public var int: Int {
        get throws(ConformanceError) {
            let d = try double
            guard d == d.rounded(), abs(d) < 9e15 else { throw .manifest("\(path) is not an integer") }
            return Int(d)
        }
    }

    public var bool: Bool {
        get throws(ConformanceError) {
            guard case .bool(let b) = value else { throw .manifest("\(path) is not a boolean") }
            return b
        }
    }

    public var ints: [Int] {
        get throws(ConformanceError) {
            var r: [Int] = []
            for n in try array { r.append(try n.int) }
            return r
        }
    }

    public var doubles: [Double] {
        get throws(ConformanceError) {
            var r: [Double] = []
            for n in try array { r.append(try n.double) }
            return r
        }
    }

    public var strings: [String] {
        get throws(ConformanceError) {
            var r: [String] = []
            for n in try array { r.append(try n.string) }
            return r
        }
    }
}
