// Prompt → encoder states for the transformer, as LattePipeline.encode_prompt builds them with
// one prompt, mask_feature=True and classifier-free guidance: the prompt and the negative prompt
// are cleaned, tokenized to 120 and encoded with their masks (in one batch of two); with K =
// the prompt's tokens (pieces + eos), both keep only their first K positions, so the negative's
// states include T5's outputs at padding positions. No attention mask goes to the transformer.

import Foundation
import TensorCore

/// What to encode: a prompt, its negative prompt, and how both are preprocessed.
public struct PromptRequest: Hashable, Sendable, Codable {
    public var prompt: String
    /// The official default is "".
    public var negativePrompt: String
    /// Whether the unconditional (negative) states are needed (guidance scale > 1).
    public var withNegative: Bool
    public var preprocessing: PromptPreprocessing

    public init(
        prompt: String, negativePrompt: String = "", withNegative: Bool = true,
        preprocessing: PromptPreprocessing = .cleanCaption
    ) {
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.withNegative = withNegative
        self.preprocessing = preprocessing
    }
}

/// Encoder states for one prompt, truncated to its K tokens.
public struct PromptEmbeddings: Sendable {
    /// (K, D): T5(prompt) at positions 0..<K.
    public let conditional: Tensor
    /// (K, D): T5(negative prompt) at positions 0..<K, or nil when not requested.
    public let unconditional: Tensor?

    public init(conditional: Tensor, unconditional: Tensor?) {
        precondition(conditional.rank == 2, "conditional states must be (K, D), got \(conditional.shape)")
        precondition(
            unconditional.map { $0.shape == conditional.shape } ?? true,
            "unconditional \(unconditional?.shape ?? []) must match conditional \(conditional.shape)")
        self.conditional = conditional
        self.unconditional = unconditional
    }

    /// The first K positions of T5's states (n, L, D): row 0 the prompt's, row 1 (when n = 2) the
    /// negative prompt's.
    public init(states: Tensor, tokenCount k: Int) {
        precondition(states.rank == 3 && (1...2).contains(states.shape[0]), "T5 states \(states.shape)")
        let (length, d) = (states.shape[1], states.shape[2])
        precondition((1...length).contains(k), "\(k) tokens of \(length)")
        func firstK(_ row: Int) -> Tensor {
            var t = Tensor(zeros: [k, d])
            let p = t.mutablePointer()
            withExtendedLifetime(states) { p.update(from: states.pointer + row * length * d, count: k * d) }
            return t
        }
        self.init(conditional: firstK(0), unconditional: states.shape[0] == 2 ? firstK(1) : nil)
    }

    /// K, the number of caption tokens the transformer attends to.
    public var tokenCount: Int { conditional.shape[0] }
    /// D, the caption channels.
    public var channels: Int { conditional.shape[1] }

    /// (2, K, D) = [unconditional, conditional], the pipeline's CFG batch order; (1, K, D)
    /// with only the conditional states when there is no negative.
    public var batch: Tensor {
        guard let unconditional else { return conditional.reshaped([1] + conditional.shape) }
        var out = Tensor(zeros: [2] + conditional.shape)
        let o = out.mutablePointer()
        withExtendedLifetime((conditional, unconditional)) {
            o.update(from: unconditional.pointer, count: unconditional.count)
            (o + unconditional.count).update(from: conditional.pointer, count: conditional.count)
        }
        return out
    }
}

/// Prompt requests to `PromptEmbeddings`: the tokenizer and T5 (T5PromptEncoder), or a stand-in
/// with the same cost (benchmarks).
public protocol PromptEncoding: AnyObject {
    /// Identifies the encoder's output (the embedding cache's model key).
    var identity: String { get }
    func embeddings(for request: PromptRequest) throws(TextEncoderError) -> PromptEmbeddings
}

/// Tokenizer + T5 encoder: prompt requests to `PromptEmbeddings`.
public final class T5PromptEncoder: PromptEncoding, @unchecked Sendable {
    public let tokenizer: T5Tokenizer
    public let encoder: T5Encoder
    /// Identifies tokenizer, weights, arithmetic and max length (the embedding cache's model key).
    public let identity: String

    /// Pairs a tokenizer with an encoder; throws if the tokenizer can produce ids beyond the
    /// encoder's embedding rows.
    public init(tokenizer: T5Tokenizer, encoder: T5Encoder) throws(TextEncoderError) {
        let largest = max(tokenizer.model.pieceCount - 1, tokenizer.specialTokens.values.max() ?? 0)
        guard largest < encoder.config.vocabSize else {
            throw .config(
                path: tokenizer.model.url.path,
                reason:
                    "the tokenizer produces ids up to \(largest) but the encoder has \(encoder.config.vocabSize) embedding rows"
            )
        }
        self.tokenizer = tokenizer
        self.encoder = encoder
        self.identity =
            "\(encoder.identity)|spm:\(FileIdentity.describe(file: tokenizer.model.url))|L=\(tokenizer.maxLength)"
    }

    /// Cleans, tokenizes and encodes the prompt (and its negative, in the same batch), then keeps
    /// the first K positions of each.
    public func embeddings(for request: PromptRequest) throws(TextEncoderError) -> PromptEmbeddings {
        var prompts = [try tokenizer.tokenize(request.prompt, preprocessing: request.preprocessing)]
        if request.withNegative {
            prompts.append(try tokenizer.tokenize(request.negativePrompt, preprocessing: request.preprocessing))
        }
        return PromptEmbeddings(states: encoder.encode(prompts), tokenCount: prompts[0].tokenCount)
    }

    /// `embeddings(for:)` through a cache (memory, and disk when the cache has a directory).
    public func embeddings(for request: PromptRequest, cache: PromptEmbeddingCache) throws(TextEncoderError)
        -> PromptEmbeddings
    {
        try cache.embeddings(for: request, model: identity) { () throws(TextEncoderError) in
            try embeddings(for: request)
        }
    }
}
