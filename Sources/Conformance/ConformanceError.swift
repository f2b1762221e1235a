// Errors that stop a conformance run (as opposed to a case that runs and misses its tolerance).

public enum ConformanceError: Error, CustomStringConvertible {
    case manifest(String)
    case fixture(path: String, reason: String)
    case unsupportedCase(name: String, kind: String)
    case model(String)

    public var description: String {
        switch self {
        case .manifest(let m): return "manifest: \(m)"
        case .fixture(let p, let r): return "fixture \(p): \(r)"
        case .unsupportedCase(let n, let k):
            return "case '\(n)': unknown kind '\(k)'; hint: this skipdit version cannot check it"
        case .model(let m): return "model: \(m)"
        }
    }
}
