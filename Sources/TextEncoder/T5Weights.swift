// Loading a transformers T5 encoder folder (config.json plus model.safetensors, sharded
// model-0000k-of-0000n.safetensors with model.safetensors.index.json, or pytorch_model.bin with
// or without an index; stored fp32, fp16 or bf16) into per-block weight sources, strictly: every
// encoder tensor must be used with its exact shape. Decoder and lm_head tensors of a full
// T5ForConditionalGeneration checkpoint are ignored, as T5EncoderModel ignores them.
//
// Memory plan (T5-XXL is 4.76 B parameters: 19.0 GB fp32, 9.5 GB bf16/fp16). Tensors borrow the
// memory-mapped files, so nothing is read until used.
// - `.resident`: each linear weight is prepared for the GEMM engine at load. With a bf16 engine
//   that is a 2-byte copy per parameter (9.5 GB for XXL, whatever the file dtype); with an fp32
//   engine and fp32 files it borrows the mapping (clean file-backed pages the kernel may evict).
// - `.streamed`: weights stay mapped in their stored dtype; when a block runs, its seven
//   matrices are converted to fp32 and prepared, and dropped after the block (peak ≈ the mapped
//   file plus one block in fp32, 0.76 GB for XXL). The choice for fp32 compute from fp16/bf16
//   files, where a resident fp32 copy would be 19 GB.
// The embedding (32128 × 4096) stays mapped; only the rows of the prompt's ids are converted.
// Dropping the encoder frees everything (the mapping closes with its last tensor).

import Checkpoints
import Foundation
import TensorCore

/// How the encoder keeps its weights between encodes (see the memory plan above).
public enum T5WeightResidency: String, Sendable, Codable, CaseIterable {
    /// Prepared for the engine once, at load.
    case resident
    /// Kept mapped as stored; each block is converted and prepared when it runs.
    case streamed

    /// The default for an engine precision and stored dtypes: resident unless that would mean
    /// an fp32 copy of fp16/bf16 weights.
    public static func automatic(precision: Precision, storedAllFloat32: Bool) -> T5WeightResidency {
        precision == .bf16 || storedAllFloat32 ? .resident : .streamed
    }
}

/// One linear weight W (N, K), either prepared for the engine or still as stored.
enum T5Linear: @unchecked Sendable {
    case prepared(PreparedWeight)
    case stored(StoredTensor)

    /// The weight prepared for `engine` (converted now when still stored).
    func prepared(_ engine: GEMMEngine) -> PreparedWeight {
        switch self {
        case .prepared(let w): return w
        case .stored(let t): return engine.prepare(weight: t.float32())
        }
    }
}

/// The weights of one encoder block (transformers T5Block: layer.0 self-attention, layer.1 FF).
struct T5BlockWeights: @unchecked Sendable {
    let q: T5Linear, k: T5Linear, v: T5Linear, o: T5Linear
    let wi0: T5Linear, wi1: T5Linear, wo: T5Linear
    /// RMSNorm weights (D) before attention and before the feed-forward.
    let attentionNorm: Tensor, feedForwardNorm: Tensor

    /// All seven matrices prepared for `engine` (for a streamed block: converted now).
    func prepared(_ engine: GEMMEngine) -> T5BlockWeights {
        T5BlockWeights(
            q: .prepared(q.prepared(engine)), k: .prepared(k.prepared(engine)), v: .prepared(v.prepared(engine)),
            o: .prepared(o.prepared(engine)), wi0: .prepared(wi0.prepared(engine)),
            wi1: .prepared(wi1.prepared(engine)), wo: .prepared(wo.prepared(engine)),
            attentionNorm: attentionNorm, feedForwardNorm: feedForwardNorm)
    }
}

/// The token embedding, read row by row from its stored form.
struct T5Embedding: @unchecked Sendable {
    let dtype: StoredDType
    /// Start of the (rows, dim) table, kept alive by `owner` (a mapped file or a tensor's storage).
    let pointer: UnsafeRawPointer
    let owner: AnyObject
    let rows: Int, dim: Int

    init(_ stored: StoredTensor) throws(TextEncoderError) {
        guard [.float32, .float16, .bfloat16].contains(stored.dtype) else {
            throw .weights(
                path: stored.path, tensor: stored.name, reason: "dtype \(stored.dtype) is not fp32, fp16 or bf16")
        }
        let bytes = stored.contiguousBytes()
        self.dtype = stored.dtype
        self.pointer = bytes.pointer
        self.owner = bytes.owner
        self.rows = stored.shape[0]
        self.dim = stored.shape[1]
    }

    /// An fp32 table held in memory (rows, dim).
    init(tensor: Tensor) {
        precondition(tensor.rank == 2, "embedding must be (rows, dim), got \(tensor.shape)")
        self.dtype = .float32
        self.pointer = UnsafeRawPointer(tensor.pointer)
        self.owner = tensor.storage
        self.rows = tensor.shape[0]
        self.dim = tensor.shape[1]
    }

    /// Row `id` converted to fp32 into `out` (dim floats).
    func row(_ id: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(id >= 0 && id < rows, "token id \(id) is outside the embedding's \(rows) rows")
        withExtendedLifetime(owner) {
            let base = pointer + id * dim * dtype.size
            switch dtype {
            case .float16:
                for c in 0..<dim {
                    out[c] = Float(Float16(bitPattern: base.loadUnaligned(fromByteOffset: 2 * c, as: UInt16.self)))
                }
            case .bfloat16:
                for c in 0..<dim {
                    out[c] = Float(bitPattern: UInt32(base.loadUnaligned(fromByteOffset: 2 * c, as: UInt16.self)) << 16)
                }
            default:
                for c in 0..<dim { out[c] = base.loadUnaligned(fromByteOffset: 4 * c, as: Float.self) }
            }
        }
    }
}

/// Everything read from a T5 encoder folder.
struct T5LoadedWeights: @unchecked Sendable {
    let embedding: T5Embedding
    let blocks: [T5BlockWeights]
    let relativeBias: RelativePositionBias
    let finalNorm: Tensor
    let residency: T5WeightResidency

    static func load(
        folder: URL, config c: T5Config, engine: GEMMEngine, residency requested: T5WeightResidency?
    ) throws(TextEncoderError) -> T5LoadedWeights {
        let store: WeightStore
        do { store = try WeightStore(try Checkpoint.open(folder).stateDict()) } catch {
            throw .weights(path: folder.path, tensor: nil, reason: "\(error)")
        }
        do {
            store.ignore(prefix: "decoder.")
            store.ignore(prefix: "lm_head.")
            let embeddingName = store.contains("shared.weight") ? "shared.weight" : "encoder.embed_tokens.weight"
            if embeddingName == "shared.weight" { store.ignore(prefix: "encoder.embed_tokens.") }
            let embedding = try store.stored(embeddingName)
            try requireShape(embedding, [c.vocabSize, c.dModel], store)
            let encoder = store.scoped("encoder.")
            var matrices: [StoredTensor] = []
            func matrix(_ s: WeightStore, _ name: String, _ shape: [Int]) throws -> StoredTensor {
                let t = try s.stored(name)
                try requireShape(t, shape, store)
                guard [.float32, .float16, .bfloat16].contains(t.dtype) else {
                    throw TextEncoderError.weights(
                        path: t.path, tensor: t.name, reason: "dtype \(t.dtype) is not fp32, fp16 or bf16")
                }
                matrices.append(t)
                return t
            }
            var raw:
                [(
                    q: StoredTensor, k: StoredTensor, v: StoredTensor, o: StoredTensor, wi0: StoredTensor,
                    wi1: StoredTensor, wo: StoredTensor, n0: Tensor, n1: Tensor
                )] = []
            for i in 0..<c.numLayers {
                let attention = encoder.scoped("block.\(i).layer.0.")
                let ff = encoder.scoped("block.\(i).layer.1.")
                raw.append(
                    (
                        q: try matrix(attention, "SelfAttention.q.weight", [c.innerDim, c.dModel]),
                        k: try matrix(attention, "SelfAttention.k.weight", [c.innerDim, c.dModel]),
                        v: try matrix(attention, "SelfAttention.v.weight", [c.innerDim, c.dModel]),
                        o: try matrix(attention, "SelfAttention.o.weight", [c.dModel, c.innerDim]),
                        wi0: try matrix(ff, "DenseReluDense.wi_0.weight", [c.dFF, c.dModel]),
                        wi1: try matrix(ff, "DenseReluDense.wi_1.weight", [c.dFF, c.dModel]),
                        wo: try matrix(ff, "DenseReluDense.wo.weight", [c.dModel, c.dFF]),
                        n0: try attention.tensor("layer_norm.weight", shape: [c.dModel]).copy(),
                        n1: try ff.tensor("layer_norm.weight", shape: [c.dModel]).copy()
                    ))
            }
            let biasTable = try encoder.tensor(
                "block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                shape: [c.relativeAttentionNumBuckets, c.numHeads]
            ).copy()
            let finalNorm = try encoder.tensor("final_layer_norm.weight", shape: [c.dModel]).copy()
            try store.requireAllUsed()

            let residency =
                requested
                ?? .automatic(
                    precision: engine.precision, storedAllFloat32: matrices.allSatisfy { $0.dtype == .float32 })
            func linear(_ t: StoredTensor) -> T5Linear {
                residency == .resident ? .prepared(engine.prepare(weight: t.float32())) : .stored(t)
            }
            let blocks = raw.map { r in
                T5BlockWeights(
                    q: linear(r.q), k: linear(r.k), v: linear(r.v), o: linear(r.o), wi0: linear(r.wi0),
                    wi1: linear(r.wi1), wo: linear(r.wo), attentionNorm: r.n0, feedForwardNorm: r.n1)
            }
            return T5LoadedWeights(
                embedding: try T5Embedding(embedding), blocks: blocks,
                relativeBias: RelativePositionBias(table: biasTable, maxDistance: c.relativeAttentionMaxDistance),
                finalNorm: finalNorm, residency: residency)
        } catch let e as TextEncoderError {
            throw e
        } catch {
            throw .weights(path: store.path, tensor: nil, reason: "\(error)")
        }
    }

    private static func requireShape(_ t: StoredTensor, _ shape: [Int], _ store: WeightStore) throws(TextEncoderError) {
        guard t.shape == shape else {
            throw .weights(
                path: store.path, tensor: t.name, reason: "shape \(t.shape), expected \(shape) from config.json")
        }
    }
}
