// The T5 tokenizer as the text-to-video pipeline calls it (transformers `T5Tokenizer`, legacy
// mode): `tokenizer(prompt, padding="max_length", max_length=120, truncation=True,
// add_special_tokens=True)`. SentencePiece pieces of the text (split first at added/special
// token strings such as "</s>", each part encoded on its own), the first maxLength−1 of them,
// then `</s>`, then the pad id up to maxLength; the attention mask is 1 for pieces and eos.

import Foundation

/// Token ids and attention mask of one prompt, padded to the tokenizer's maximum length.
public struct TokenizedPrompt: Sendable, Equatable, Codable {
    /// (T) token ids, T = max length: pieces, eos, then padding.
    public let ids: [Int]
    /// (T) 1 for the pieces and the eos, 0 for padding.
    public let attentionMask: [Int]
    /// Pieces the text had before truncation (without eos).
    public let untruncatedPieceCount: Int

    /// K: the number of unmasked positions (pieces kept + eos), 1...T.
    public var tokenCount: Int { attentionMask.reduce(0, +) }
    /// Whether pieces were cut to fit the maximum length.
    public var wasTruncated: Bool { untruncatedPieceCount + 1 > ids.count }
}

/// Turns prompts into T5 token ids. Immutable; safe to share between threads.
public final class T5Tokenizer: Sendable {
    /// The pipeline's `max_length` (section 3.1 of the PixArt-α paper).
    public static let defaultMaxLength = 120

    /// The SentencePiece model (spiece.model).
    public let model: SentencePieceModel
    /// Padded length T (eos included).
    public let maxLength: Int
    /// Id of `</s>`.
    public let eosID: Int
    /// Id used for padding (`<pad>`).
    public let padID: Int
    /// Strings matched in raw text before SentencePiece runs (special and added tokens) → id.
    public let specialTokens: [String: Int]
    private let specialsByLength: [(scalars: [Unicode.Scalar], id: Int)]

    /// Loads `spiece.model` plus `tokenizer_config.json`, `special_tokens_map.json` and
    /// `added_tokens.json` (each optional) from a transformers tokenizer folder.
    public convenience init(directory: URL, maxLength: Int = T5Tokenizer.defaultMaxLength) throws(TextEncoderError) {
        let model = try SentencePieceModel(contentsOf: directory.appendingPathComponent("spiece.model"))
        let config = try TokenizerFiles(directory: directory)
        try self.init(model: model, files: config, maxLength: maxLength)
    }

    /// A tokenizer over a loaded model, with T5's defaults: `</s>`, `<unk>`, `<pad>` and
    /// `extraIDs` sentinel tokens `<extra_id_k>` = pieceCount + extraIDs − 1 − k.
    public convenience init(
        model: SentencePieceModel, extraIDs: Int = 0, maxLength: Int = T5Tokenizer.defaultMaxLength
    ) throws(TextEncoderError) {
        try self.init(model: model, files: TokenizerFiles(extraIDs: extraIDs), maxLength: maxLength)
    }

    private init(model: SentencePieceModel, files: TokenizerFiles, maxLength: Int) throws(TextEncoderError) {
        precondition(maxLength >= 1, "max length \(maxLength) leaves no room for the eos token")
        let path = model.url.path
        func id(of token: String, fallback: Int?) throws(TextEncoderError) -> Int {
            if let id = model.id(ofPiece: token) ?? fallback { return id }
            throw .tokenizerFile(path: path, reason: "the model has no piece '\(token)'")
        }
        self.model = model
        self.maxLength = maxLength
        self.eosID = try id(of: files.eosToken, fallback: model.endOfSequenceID)
        self.padID = try id(of: files.padToken, fallback: model.paddingID)
        var specials: [String: Int] = [:]
        for token in [files.eosToken, files.unkToken, files.padToken] {
            if let id = model.id(ofPiece: token) { specials[token] = id }
        }
        for k in 0..<files.extraIDs { specials["<extra_id_\(k)>"] = model.pieceCount + files.extraIDs - 1 - k }
        for token in files.additionalSpecialTokens where specials[token] == nil {
            if let id = model.id(ofPiece: token) { specials[token] = id }
        }
        for (token, id) in files.addedTokens { specials[token] = id }
        self.specialTokens = specials
        self.specialsByLength = specials.map { (Array($0.key.unicodeScalars), $0.value) }
            .filter { !$0.0.isEmpty }
            .sorted { $0.0.count != $1.0.count ? $0.0.count > $1.0.count : $0.1 < $1.1 }
    }

    /// Piece ids of `text` without eos, padding or truncation; special-token strings in the
    /// text become their ids and the parts between them are encoded separately.
    public func pieces(_ text: String) throws(TextEncoderError) -> [Int] {
        let scalars = Array(text.unicodeScalars)
        var ids: [Int] = []
        var segmentStart = 0
        var i = 0
        while i < scalars.count {
            if let special = specialsByLength.first(where: { matches($0.scalars, in: scalars, at: i) }) {
                ids += try model.encode(PythonString.string(scalars[segmentStart..<i]))
                ids.append(special.id)
                i += special.scalars.count
                segmentStart = i
            } else {
                i += 1
            }
        }
        ids += try model.encode(PythonString.string(scalars[segmentStart...]))
        return ids
    }

    private func matches(_ needle: [Unicode.Scalar], in haystack: [Unicode.Scalar], at i: Int) -> Bool {
        guard i + needle.count <= haystack.count else { return false }
        for k in 0..<needle.count where haystack[i + k] != needle[k] { return false }
        return true
    }

    /// Preprocesses a prompt (the official cleaning by default), then tokenizes it:
    /// first maxLength−1 pieces, eos, padding to maxLength.
    public func tokenize(
        _ prompt: String, preprocessing: PromptPreprocessing = .cleanCaption
    ) throws(TextEncoderError) -> TokenizedPrompt {
        let all = try pieces(preprocessing.apply(prompt))
        var ids = Array(all.prefix(maxLength - 1))
        ids.append(eosID)
        let kept = ids.count
        ids += Array(repeating: padID, count: maxLength - kept)
        let mask = Array(repeating: 1, count: kept) + Array(repeating: 0, count: maxLength - kept)
        return TokenizedPrompt(ids: ids, attentionMask: mask, untruncatedPieceCount: all.count)
    }
}

/// The optional JSON files next to spiece.model that name the special tokens.
struct TokenizerFiles {
    var eosToken = "</s>"
    var unkToken = "<unk>"
    var padToken = "<pad>"
    var extraIDs = 0
    var additionalSpecialTokens: [String] = []
    var addedTokens: [String: Int] = [:]

    init(extraIDs: Int) { self.extraIDs = extraIDs }

    init(directory: URL) throws(TextEncoderError) {
        let config = directory.appendingPathComponent("tokenizer_config.json")
        if let object = try Self.object(config) {
            eosToken = Self.token(object["eos_token"]) ?? eosToken
            unkToken = Self.token(object["unk_token"]) ?? unkToken
            padToken = Self.token(object["pad_token"]) ?? padToken
            if let n = object["extra_ids"] as? NSNumber {
                // T5 has 100; a negative or huge count would make the sentinel table crash or hang.
                guard let count = Self.integer(n), (0...Self.maxExtraIDs).contains(count) else {
                    throw .tokenizerFile(
                        path: config.path, reason: "extra_ids is \(n), not an integer in 0...\(Self.maxExtraIDs)")
                }
                extraIDs = count
            }
            additionalSpecialTokens = (object["additional_special_tokens"] as? [Any] ?? []).compactMap(Self.token)
            // Newer files list every added token with its id: {"32099": {"content": "<extra_id_0>", ...}}.
            for (id, entry) in object["added_tokens_decoder"] as? [String: Any] ?? [:] {
                guard let id = Int(id), let token = Self.token(entry) else { continue }
                guard id >= 0 else {
                    throw .tokenizerFile(path: config.path, reason: "added token '\(token)' has the negative id \(id)")
                }
                addedTokens[token] = id
            }
        }
        let map = directory.appendingPathComponent("special_tokens_map.json")
        if let object = try Self.object(map) {
            eosToken = Self.token(object["eos_token"]) ?? eosToken
            unkToken = Self.token(object["unk_token"]) ?? unkToken
            padToken = Self.token(object["pad_token"]) ?? padToken
            let more = (object["additional_special_tokens"] as? [Any] ?? []).compactMap(Self.token)
            additionalSpecialTokens += more.filter { !additionalSpecialTokens.contains($0) }
        }
        let added = directory.appendingPathComponent("added_tokens.json")
        if let object = try Self.object(added) {
            for (token, id) in object {
                guard let number = id as? NSNumber, let id = Self.integer(number), id >= 0 else {
                    throw .tokenizerFile(path: added.path, reason: "token '\(token)' has no non-negative integer id")
                }
                addedTokens[token] = id
            }
        }
        // Sentinels listed as additional special tokens already have their ids from extra_ids.
        if extraIDs == 0 {
            let sentinels = additionalSpecialTokens.filter { $0.hasPrefix("<extra_id_") }
            extraIDs = sentinels.count
        }
    }

    /// Most sentinel tokens accepted from `extra_ids` (T5 uses 100).
    static let maxExtraIDs = 10_000

    /// The exact integer value of a JSON number (nil for fractions and values beyond Int).
    private static func integer(_ n: NSNumber) -> Int? {
        let d = n.doubleValue
        guard d.isFinite, d == d.rounded(.towardZero), abs(d) < 9.0e15 else { return nil }
        return Int(d)
    }

    /// A token given either as a string or as an AddedToken object with "content".
    private static func token(_ value: Any?) -> String? {
        if let s = value as? String { return s }
        if let o = value as? [String: Any], let s = o["content"] as? String { return s }
        return nil
    }

    private static func object(_ url: URL) throws(TextEncoderError) -> [String: Any]? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            // FileHandle rather than Data(contentsOf:), which leaks a 4 KiB buffer for every empty
            // file it reads (swift-foundation's zero-size path on Linux).
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            let data = try handle.readToEnd() ?? Data()
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw TextEncoderError.tokenizerFile(path: url.path, reason: "not a JSON object")
            }
            return object
        } catch let error as TextEncoderError {
            throw error
        } catch {
            throw .tokenizerFile(path: url.path, reason: "unreadable JSON (\(error.localizedDescription))")
        }
    }
}
