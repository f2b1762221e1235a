// t2v cases on the text side of the pipeline: "tokenizer" (prompt cleaning, ids and attention
// masks, raw-text edge cases; all exact) and "t5_encoder" (T5 v1.1 encoder states of all
// positions, including padding, against the manifest's relative bound).

import Checkpoints
import Foundation
import TensorCore
import TextEncoder

/// The text-encoder cases of the t2v suite (called by the t2v runner and by TextEncoderTests).
public enum T2VTextCases {
    /// Positions where two integer sequences differ (a length difference counts each extra entry).
    static func mismatches(_ a: [Int], _ b: [Int]) -> Double {
        Double(zip(a, b).filter { $0 != $1 }.count + abs(a.count - b.count))
    }

    /// The "tokenizer" case: every prompt cleaned (clean_caption=True and False) and tokenized,
    /// and the raw-text edge cases tokenized without cleaning. Every check is exact.
    public static func tokenizer(_ c: ManifestNode, fixtures: FixtureDirectory) throws(ConformanceError) -> [Check] {
        let maxLength = try c["max_length"].int
        let tokenizer: T5Tokenizer
        do {
            tokenizer = try T5Tokenizer(
                directory: try fixtures.modelFolder("tokenizer"), maxLength: maxLength)
        } catch { throw .model("\(error)") }
        var checks: [Check] = []
        for (p, prompt) in try c["prompts"].array.enumerated() {
            let raw = try prompt["raw"].string
            let label = "prompt \(p)"
            do {
                let cleaned = try PromptPreprocessing.cleanCaption.apply(raw)
                let expected = try prompt["cleaned_clean_caption_true"].string
                checks.append(
                    Check(label: "\(label) cleaned text", maxError: same(cleaned, expected) ? 0 : 1, tolerance: 0))
                checks += try compare(
                    label, try tokenizer.tokenize(raw, preprocessing: .cleanCaption), prompt, prefix: "")
                if let text = prompt.optional("noclean_text") {
                    let lowered = try PromptPreprocessing.lowercase.apply(raw)
                    checks.append(
                        Check(
                            label: "\(label) noclean text", maxError: same(lowered, try text.string) ? 0 : 1,
                            tolerance: 0))
                    checks += try compare(
                        "\(label) noclean", try tokenizer.tokenize(raw, preprocessing: .lowercase), prompt,
                        prefix: "noclean_")
                }
            } catch let e as ConformanceError {
                throw e
            } catch {
                checks.append(Check(label: "\(label): \(error)", maxError: .infinity, tolerance: 0))
            }
        }
        for (e, edge) in (try c.optional("raw_text_edge_cases")?.array ?? []).enumerated() {
            let text = try edge["text"].string
            do {
                checks += try compare(
                    "edge case \(e)", try tokenizer.tokenize(text, preprocessing: .none), edge, prefix: "")
            } catch let e as ConformanceError {
                throw e
            } catch {
                checks.append(Check(label: "edge case \(e): \(error)", maxError: .infinity, tolerance: 0))
            }
        }
        return checks
    }

    private static func same(_ a: String, _ b: String) -> Bool { a.unicodeScalars.elementsEqual(b.unicodeScalars) }

    /// ids, attention_mask (when given) and n_tokens of one entry, with a key prefix ("noclean_").
    private static func compare(
        _ label: String, _ got: TokenizedPrompt, _ node: ManifestNode, prefix: String
    ) throws(ConformanceError) -> [Check] {
        var checks = [
            Check(label: "\(label) ids", maxError: mismatches(got.ids, try node["\(prefix)ids"].ints), tolerance: 0)
        ]
        if let mask = node.optional("\(prefix)attention_mask") {
            checks.append(
                Check(
                    label: "\(label) attention mask", maxError: mismatches(got.attentionMask, try mask.ints),
                    tolerance: 0))
        }
        if let n = node.optional("\(prefix)n_tokens") {
            checks.append(
                Check(label: "\(label) n_tokens", maxError: Double(abs(got.tokenCount - (try n.int))), tolerance: 0))
        }
        return checks
    }

    /// The "t5_encoder" case: last_hidden_state of every position for the given ids and masks,
    /// computed with the encoder loaded from the fixture's text_encoder folder.
    public static func t5Encoder(_ c: ManifestNode, fixtures: FixtureDirectory, encoder: T5Encoder)
        throws(ConformanceError)
        -> [Check]
    {
        let inputs = try c["inputs"]
        let idsArray = try fixtures.array(inputs["input_ids"])
        let maskArray = try fixtures.array(inputs["attention_mask"])
        guard idsArray.shape.count == 2, maskArray.shape == idsArray.shape else {
            throw .fixture(
                path: inputs.path, reason: "ids \(idsArray.shape) and mask \(maskArray.shape) must both be (n, L)")
        }
        let n = idsArray.shape[0], length = idsArray.shape[1]
        let idValues = idsArray.ints(), maskValues = maskArray.ints()
        let ids = (0..<n).map { Array(idValues[$0 * length..<($0 + 1) * length]) }
        let masks = (0..<n).map { Array(maskValues[$0 * length..<($0 + 1) * length]) }
        let got = encoder.encode(ids: ids, masks: masks)
        let expectedNode = try c["expected"]["last_hidden_state"]
        let expected = try fixtures.array(expectedNode)
        guard expected.shape == got.shape else {
            throw .fixture(path: expectedNode.path, reason: "\(expected.shape) expected, computed \(got.shape)")
        }
        let tolerance = try fixtures.relativeTolerance(kind: "t5_encoder")
        let values = expected.floats()
        let per = length * encoder.config.dModel
        var checks: [Check] = []
        let all = got.scalars
        for r in 0..<n {
            let g = Tensor(shape: [per], values: Array(all[r * per..<(r + 1) * per]))
            checks.append(
                fixtures.relativeCheck(
                    "last_hidden_state[\(r)] (\(masks[r].reduce(0, +)) tokens)", g,
                    Array(values[r * per..<(r + 1) * per]),
                    tolerance: tolerance))
        }
        checks.append(fixtures.relativeCheck("last_hidden_state", got, values, tolerance: tolerance))
        return checks
    }

    /// The text side of a "cfg_forward" case: `prompt` and `negative_prompt` through cleaning,
    /// tokenizer and T5 as encode_prompt does (mask_feature: both cut to the prompt's K tokens)
    /// against `prompt_embeds_cfg` = [negative, positive], and K against n_prompt_tokens_kept.
    public static func cfgPromptEmbeddings(
        _ c: ManifestNode, fixtures: FixtureDirectory, encoder: T5PromptEncoder
    ) throws(ConformanceError) -> [Check] {
        let embeddings: PromptEmbeddings
        do {
            let request = PromptRequest(prompt: try c["prompt"].string, negativePrompt: try c["negative_prompt"].string)
            embeddings = try encoder.embeddings(for: request)
        } catch let e as ConformanceError {
            throw e
        } catch {
            throw .model("\(error)")
        }
        var checks: [Check] = []
        if let kept = c.optional("n_prompt_tokens_kept") {
            checks.append(
                Check(
                    label: "n_prompt_tokens_kept", maxError: Double(abs(embeddings.tokenCount - (try kept.int))),
                    tolerance: 0))
        }
        let node = try c["inputs"]["prompt_embeds_cfg"]
        let expected = try fixtures.array(node)
        let got = embeddings.batch
        guard expected.shape == got.shape else {
            throw .fixture(path: node.path, reason: "\(expected.shape) expected, computed \(got.shape)")
        }
        checks.append(
            fixtures.relativeCheck(
                "prompt_embeds_cfg", got, expected.floats(),
                tolerance: try fixtures.relativeTolerance(kind: "cfg encoder states")))
        return checks
    }
}
