// Errors of the VAE module: configuration and weight-loading problems, each naming the file or
// tensor involved and carrying a hint. (Input shapes are preconditions.)

import Checkpoints

/// What can go wrong loading a VAE decoder.
public enum VAEError: Error, CustomStringConvertible {
    /// config.json is unreadable, malformed or describes something this decoder does not implement.
    case config(path: String, reason: String, hint: String)
    /// The weights could not be read, or do not match the configuration (missing, mis-shaped or
    /// unused tensors; names are the file's own).
    case weights(CheckpointError, naming: VAEKeyNaming?)

    public var description: String {
        switch self {
        case .config(let p, let r, let h): return "\(p): \(r); hint: \(h)"
        case .weights(let e, let naming):
            guard let naming else { return "\(e)" }
            return "\(e) (tensor names read as the \(naming.rawValue) convention)"
        }
    }
}
