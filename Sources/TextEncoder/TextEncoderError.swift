// Errors of the TextEncoder module (tokenizer files, prompt cleaning, T5 config and weights, the
// prompt-embedding cache). Each carries the file or tensor it is about and a hint.

/// An error from loading or running the tokenizer, the T5 encoder or the embedding cache.
public enum TextEncoderError: Error, CustomStringConvertible, Equatable {
    /// A tokenizer file (spiece.model, tokenizer_config.json, ...) is missing or unreadable.
    case tokenizerFile(path: String, reason: String)
    /// SentencePiece failed to encode a text.
    case encoding(reason: String)
    /// The official cleaning code would reject this prompt (its HTML parser raises).
    case promptRejected(excerpt: String, reason: String)
    /// config.json is missing, unreadable or describes an unsupported T5 variant.
    case config(path: String, reason: String)
    /// A weight file or tensor is missing, extra, mis-shaped or of an unsupported type.
    case weights(path: String, tensor: String?, reason: String)
    /// The prompt-embedding cache could not read or write an entry.
    case cache(path: String, reason: String)

    public var description: String {
        switch self {
        case .tokenizerFile(let path, let reason):
            return "tokenizer \(path): \(reason); hint: point the model's tokenizer path at a folder with spiece.model"
        case .encoding(let reason):
            return "sentencepiece encode failed: \(reason)"
        case .promptRejected(let excerpt, let reason):
            return
                "prompt rejected at '\(excerpt)': \(reason); hint: the official pipeline's HTML parser fails on this markup, rephrase it"
        case .config(let path, let reason):
            return
                "T5 config \(path): \(reason); hint: text_encoder/config.json must describe a T5 v1.1 encoder (gated-gelu)"
        case .weights(let path, let tensor, let reason):
            let what = tensor.map { " tensor '\($0)'" } ?? ""
            return
                "T5 weights \(path)\(what): \(reason); hint: expected a transformers T5EncoderModel folder (model.safetensors, sharded safetensors with index, or pytorch_model.bin)"
        case .cache(let path, let reason):
            return
                "prompt-embedding cache \(path): \(reason); hint: check the cache directory's permissions and free space"
        }
    }
}
