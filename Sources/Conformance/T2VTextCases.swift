// t2v cases on the text side of the pipeline: "tokenizer" (prompt cleaning, ids and attention
// masks, raw-text edge cases; all exact) and "t5_encoder" (T5 v1.1 encoder states of all
// positions, including padding, against the manifest's relative bound).

import Checkpoints
import Foundation
import TensorCore
import TextEncoder

/// The text-encoder cases of the t2v suite (called by the t2v runner and by TextEncoderTests).
public enum T2VTextCases {
    /// A folder named by the first path of a manifest "model_files" entry ("path (comment)").
    static func modelFolder(_ key: String, fixtures: FixtureDirectory) throws(ConformanceError) -> URL {
        let text = try fixtures.manifest["model_files"][key].string
        guard let path = text.split(separator: " ").first else { throw .manifest("model_files.\(key) is empty") }
        let url = fixtures.file(String(path))
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue { return url }
        return url.deletingLastPathComponent()
    }

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
            tokenizer = try T5Tokenizer(directory: try modelFolder("tokenizer", fixtures: fixtures), maxLength: maxLength)
        } catch { throw .model("\(error)") }
        var checks: [Check] = []
        for (p, prompt) in try c["prompts"].array.enumerated() {
            let raw = try prompt["raw"].string
            let label = "prompt \(p)"
            do {
                let cleaned = try PromptPreprocessing.cleanCaption.apply(raw)
                let expected = try prompt["cleaned_clean_caption_true"].string
                checks.append(Check(label: "\(label) cleaned text", maxError: same(cleaned, expected) ? 0 : 1, tolerance: 0))
                checks += try compare(label, try tokenizer.tokenize(raw, preprocessing: .cleanCaption), prompt, prefix: "")
                if let text = prompt.optional("noclean_text") {
                    let lowered = try PromptPreprocessing.lowercase.apply(raw)
                    checks.append(Check(label: "\(label) noclean text", maxError: same(lowered, try text.string) ? 0 : 1, tolerance: 0))
                    checks += try compare(
                        "\(label) noclean", try tokenizer.tokenize(raw, preprocessing: .lowercase), prompt, prefix: "noclean_")
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
                checks += try compare("edge case \(e)", try tokenizer.tokenize(text, preprocessing: .none), edge, prefix: "")
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
            checks.append(Check(label: "\(label) attention mask", maxError: mismatches(got.attentionMask, try mask.ints), tolerance: 0))
        }
        if let n = node.optional("\(prefix)n_tokens") {
            checks.append(Check(label: "\(label) n_tokens", maxError: Double(abs(got.tokenCount - (try n.int))), tolerance: 0))
        }
        return checks
    }
}
