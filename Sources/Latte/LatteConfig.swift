// Hyperparameters of a class-to-video Latte-skip model (official models/latte.py Latte_skip),
// derived from the checkpoint's tensor shapes: nothing assumes the tiny or the full size.

/// Errors building a Latte model from a checkpoint.
public enum LatteError: Error, CustomStringConvertible {
    case missingTensor(String, hint: String)
    case inconsistent(String)
    case unsupportedDepth(Int)

    public var description: String {
        switch self {
        case .missingTensor(let name, let hint): return "checkpoint has no tensor '\(name)'; hint: \(hint)"
        case .inconsistent(let m): return "checkpoint shapes are inconsistent: \(m)"
        case .unsupportedDepth(let d):
            return
                "Latte-skip depth \(d) is not supported: the official skip wiring ((i-14)//2) is only right for 28 blocks"
        }
    }
}

public struct LatteConfig: Sendable, Equatable, Codable {
    /// D
    public var hiddenSize: Int
    /// Transformer blocks (spatial and temporal alternate; 28 in every released model).
    public var depth: Int
    public var numHeads: Int
    /// p
    public var patchSize: Int
    /// C (latent channels in)
    public var inChannels: Int
    /// 2C with learned sigma
    public var outChannels: Int
    /// F (rows of temp_embed)
    public var numFrames: Int
    /// H = W of the latent (from pos_embed: (H/p)^2 tokens)
    public var latentSize: Int
    /// Label classes (without the null row), or nil for unconditional models (extras = 1).
    public var numClasses: Int?
    /// MLP hidden size (4D)
    public var mlpHidden: Int
    /// Timestep sinusoid size (256)
    public var frequencyEmbeddingSize: Int

    public var headDim: Int { hiddenSize / numHeads }
    /// G = H / p
    public var gridSize: Int { latentSize / patchSize }
    /// T = G²
    public var tokensPerFrame: Int { gridSize * gridSize }
    public var isClassConditional: Bool { numClasses != nil }
    /// The null label used for classifier-free guidance (= numClasses).
    public var nullClass: Int? { numClasses }
    /// Block pairs (14).
    public var pairs: Int { depth / 2 }
    /// Skip fusion modules (depth / 4 = 7).
    public var skipCount: Int { depth / 4 }

    /// Head counts of the official registry (Latte-S/B/L/XL), by hidden size; the head count is
    /// not stored in a checkpoint.
    public static func officialHeads(hiddenSize: Int) -> Int? {
        [384: 6, 768: 12, 1024: 16, 1152: 16][hiddenSize]
    }

    /// Derives the configuration from tensor shapes (name -> shape) of a Latte-skip state dict.
    /// `numHeads` nil takes the official registry's value for the hidden size.
    public init(shapes: [String: [Int]], numHeads: Int? = nil) throws(LatteError) {
        func shape(_ name: String, _ hint: String) throws(LatteError) -> [Int] {
            guard let s = shapes[name] else { throw .missingTensor(name, hint: hint) }
            return s
        }
        let notLatte = "is this a class-to-video Latte-skip checkpoint?"
        let pe = try shape("x_embedder.proj.weight", notLatte)
        guard pe.count == 4, pe[2] == pe[3] else { throw .inconsistent("x_embedder.proj.weight is \(pe)") }
        hiddenSize = pe[0]
        inChannels = pe[1]
        patchSize = pe[2]
        let pos = try shape("pos_embed", notLatte)
        guard pos.count == 3, pos[2] == hiddenSize else { throw .inconsistent("pos_embed is \(pos)") }
        let grid = Int(Double(pos[1]).squareRoot().rounded())
        guard grid * grid == pos[1] else { throw .inconsistent("pos_embed has \(pos[1]) tokens, not a square grid") }
        latentSize = grid * patchSize
        let temp = try shape("temp_embed", notLatte)
        guard temp.count == 3, temp[2] == hiddenSize else { throw .inconsistent("temp_embed is \(temp)") }
        numFrames = temp[1]
        var d = 0
        while shapes["blocks.\(d).attn.qkv.weight"] != nil { d += 1 }
        depth = d
        guard d == 28 else { throw .unsupportedDepth(d) }
        let fc1 = try shape("blocks.0.mlp.fc1.weight", notLatte)
        mlpHidden = fc1[0]
        let t1 = try shape("t_embedder.mlp.0.weight", notLatte)
        frequencyEmbeddingSize = t1[1]
        let final = try shape("final_layer.linear.weight", notLatte)
        guard final[0] % (patchSize * patchSize) == 0 else {
            throw .inconsistent("final_layer.linear.weight is \(final)")
        }
        outChannels = final[0] / (patchSize * patchSize)
        if let table = shapes["y_embedder.embedding_table.weight"] {
            guard table.count == 2, table[0] >= 2, table[1] == hiddenSize else {
                throw .inconsistent("y_embedder.embedding_table.weight is \(table)")
            }
            numClasses = table[0] - 1
        } else {
            numClasses = nil
        }
        guard let heads = numHeads ?? Self.officialHeads(hiddenSize: hiddenSize) else {
            throw .inconsistent(
                "hidden size \(hiddenSize) is not an official Latte size; hint: give the head count (heads:)")
        }
        guard heads >= 1, hiddenSize % heads == 0 else {
            throw .inconsistent("hidden size \(hiddenSize) is not divisible by \(heads) heads")
        }
        self.numHeads = heads
        guard outChannels == 2 * inChannels else {
            throw .inconsistent("out channels \(outChannels) != 2 x in channels \(inChannels) (learn_sigma)")
        }
    }
}
