// Errors of a render, each with what failed and a hint.

public enum RenderError: Error, CustomStringConvertible {
    case model(name: String, reason: String)
    case unsupported(String)
    case badState(String)
    case output(path: String, reason: String)
    case cancelled
    case stopped

    public var description: String {
        switch self {
        case .model(let name, let reason): return "model '\(name)': \(reason)"
        case .unsupported(let m): return m
        case .badState(let m): return "render state: \(m)"
        case .output(let path, let reason): return "\(path): \(reason)"
        case .cancelled: return "cancelled"
        case .stopped: return "stopped at a step boundary (will resume)"
        }
    }
}
