// Errors of the VAE module: configuration, weight loading and input problems, each naming the
// file or tensor involved and carrying a hint.

/// Everything that can go wrong loading or running a VAE decoder.
public enum VAEError: Error, CustomStringConvertible {
    /// config.json is unreadable, malformed or describes something this decoder does not implement.
    case config(path: String, reason: String, hint: String)
    /// No weights file in a model folder.
    case noWeights(directory: String, looked: [String])
    /// The weights file could not be read.
    case weightsFile(path: String, reason: String)
    /// A tensor the decoder needs is not in the file (`fileName` is the name it was looked up under).
    case missingTensor(path: String, name: String, fileName: String)
    /// A tensor has the wrong shape.
    case tensorShape(path: String, name: String, expected: [Int], actual: [Int])
    /// Decoder tensors in the file that no parameter uses (a different architecture or naming).
    case unusedTensors(path: String, names: [String])
    /// The input latents do not fit the model.
    case input(String)

    public var description: String {
        switch self {
        case .config(let p, let r, let h): return "\(p): \(r); hint: \(h)"
        case .noWeights(let d, let looked):
            return "\(d): no weights file (looked for \(looked.joined(separator: ", "))); "
                + "hint: pass a diffusers VAE folder (config.json + diffusion_pytorch_model.safetensors or .bin)"
        case .weightsFile(let p, let r): return "\(p): \(r)"
        case .missingTensor(let p, let n, let f):
            let asked = n == f ? "'\(n)'" : "'\(n)' (looked up as '\(f)')"
            return "\(p): tensor \(asked) is missing; hint: the file is not a VAE of this configuration"
        case .tensorShape(let p, let n, let e, let a):
            return "\(p): tensor '\(n)' has shape \(a), expected \(e); hint: config.json does not match the weights"
        case .unusedTensors(let p, let names):
            let shown = names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", … (\(names.count) in all)" : "")
            return "\(p): decoder tensors not used by this configuration: \(shown); "
                + "hint: config.json does not match the weights"
        case .input(let m): return "input: \(m)"
        }
    }
}
