// The conditioning phase of a text-to-video job: the prompt and the negative prompt through the
// official caption cleaning, the T5 tokenizer and the T5 encoder (mask_feature: both cut to the
// prompt's K tokens), cached in memory and on disk by model and prompt so that a job's seeds, and
// later jobs with the same prompt, encode once. T5 is loaded only on a cache miss and released
// before the transformer needs the memory.

import Foundation
import Jobs
import TensorCore
import TextEncoder

extension RenderPipeline {
    /// Caption states for the plan: (2, K, Dc) = [negative, prompt] with guidance, else (1, K, Dc).
    func encodePrompts(_ plan: RenderPlan) throws -> Tensor {
        guard let base = plan.model.base, let prompt = plan.prompt else {
            throw RenderError.unsupported("a text-to-video job needs a prompt and a model with `base:`")
        }
        let request = PromptRequest(
            prompt: prompt, negativePrompt: plan.negativePrompt ?? "", withNegative: plan.usesGuidance)
        let textEncoder = base.appendingPathComponent("text_encoder")
        // A text encoder built in memory (ModelCache.insert) stands in for the files.
        let inMemory = models.promptEncoder(for: plan.model)
        let identity = [
            inMemory == nil ? "t5" : "in-memory", textEncoder.path, compute.backend.rawValue,
            compute.precision.rawValue, Self.fileStamp(textEncoder),
            Self.fileStamp(base.appendingPathComponent("tokenizer")),
        ].joined(separator: "|")
        let embeddings: PromptEmbeddings
        do {
            embeddings = try promptCache.embeddings(for: request, model: identity) { () throws(TextEncoderError) in
                // Loaded here, on a miss only, and dropped on return (the transformer loads afterwards).
                let encoder: any PromptEncoding
                do {
                    if let inMemory {
                        encoder = try inMemory()
                    } else {
                        encoder = try T5PromptEncoder(
                            tokenizer: try T5Tokenizer(directory: base.appendingPathComponent("tokenizer")),
                            encoder: try T5Encoder.load(folder: textEncoder, engine: try models.engine(for: compute)))
                    }
                } catch let error as TextEncoderError {
                    throw error
                } catch {
                    throw TextEncoderError.weights(path: textEncoder.path, tensor: nil, reason: "\(error)")
                }
                return try encoder.embeddings(for: request)
            }
        } catch {
            throw RenderError.model(name: plan.model.name, reason: "text encoder: \(error)")
        }
        return plan.usesGuidance
            ? embeddings.batch : embeddings.conditional.reshaped([1] + embeddings.conditional.shape)
    }

    /// Sizes and modification times of a folder's files: changes when the model files change.
    static func fileStamp(_ folder: URL) -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.sorted() ?? []
        return names.map { name -> String in
            let attributes = try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path)
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(name):\(size):\(Int(modified))"
        }.joined(separator: ",")
    }
}
