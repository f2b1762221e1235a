// The Swift wrapper over the CSentencePiece shim (Debian's libsentencepiece): the only code that
// touches the C API. Loads a SentencePiece model and encodes text to piece ids.

import CSentencePiece
import Foundation

/// A loaded SentencePiece model (e.g. T5's spiece.model). Encoding is read-only on the model, so
/// one instance may be shared between threads.
public final class SentencePieceModel: @unchecked Sendable {
    private let handle: OpaquePointer
    /// The model file it was loaded from.
    public let url: URL
    /// Number of pieces in the vocabulary (ids 0..<pieceCount).
    public let pieceCount: Int

    /// Loads a `.model` file.
    public init(contentsOf url: URL) throws(TextEncoderError) {
        var message = [CChar](repeating: 0, count: 512)
        let loaded = url.path.withCString { skipdit_spm_load($0, &message, message.count) }
        guard let loaded else {
            throw .tokenizerFile(path: url.path, reason: "sentencepiece cannot load it (\(String(cString: message)))")
        }
        self.handle = loaded
        self.url = url
        self.pieceCount = Int(skipdit_spm_piece_count(loaded))
    }

    deinit { skipdit_spm_free(handle) }

    /// Piece ids of `text` as SentencePiece encodes it (normalization, dummy prefix, unk merging),
    /// without any special tokens.
    public func encode(_ text: String) throws(TextEncoderError) -> [Int] {
        var bytes = Array(text.utf8)
        var capacity = max(16, bytes.count + 8)
        var message = [CChar](repeating: 0, count: 512)
        while true {
            var ids = [Int32](repeating: 0, count: capacity)
            let n = bytes.withUnsafeMutableBufferPointer { b in
                b.baseAddress.map { base in
                    base.withMemoryRebound(to: CChar.self, capacity: b.count) {
                        skipdit_spm_encode(handle, $0, b.count, &ids, ids.count, &message, message.count)
                    }
                } ?? skipdit_spm_encode(handle, nil, 0, &ids, ids.count, &message, message.count)
            }
            if n < 0 { throw .encoding(reason: String(cString: message)) }
            if Int(n) <= capacity { return ids.prefix(Int(n)).map(Int.init) }
            capacity = Int(n)
        }
    }

    /// The id of a piece string, or nil if the vocabulary lacks it.
    public func id(ofPiece piece: String) -> Int? {
        let id = Int(piece.withCString { skipdit_spm_piece_to_id(handle, $0) })
        guard id >= 0, id < pieceCount else { return nil }
        // PieceToId answers the unk id for unknown pieces; only the unk piece itself maps there.
        if id == unknownID, self.piece(ofID: id) != piece { return nil }
        return id
    }

    /// The piece string of an id, or nil if out of range.
    public func piece(ofID id: Int) -> String? {
        guard id >= 0, id < pieceCount, let id32 = Int32(exactly: id) else { return nil }
        var buffer = [CChar](repeating: 0, count: 256)
        let length = skipdit_spm_id_to_piece(handle, id32, &buffer, buffer.count)
        if length < 0 { return nil }
        if Int(length) >= buffer.count {
            buffer = [CChar](repeating: 0, count: Int(length) + 1)
            _ = skipdit_spm_id_to_piece(handle, id32, &buffer, buffer.count)
        }
        return String(cString: buffer)
    }

    /// Whether `id` is a control symbol (such as `</s>` or `<pad>`).
    public func isControl(_ id: Int) -> Bool {
        guard let id32 = Int32(exactly: id) else { return false }
        return skipdit_spm_is_control(handle, id32) != 0
    }

    /// The unknown-piece id (nil if the model has none).
    public var unknownID: Int? { Self.optionalID(skipdit_spm_unk_id(handle)) }
    /// The end-of-sequence id (nil if the model has none).
    public var endOfSequenceID: Int? { Self.optionalID(skipdit_spm_eos_id(handle)) }
    /// The beginning-of-sequence id (nil if the model has none; T5 has none).
    public var beginningOfSequenceID: Int? { Self.optionalID(skipdit_spm_bos_id(handle)) }
    /// The padding id (nil if the model has none).
    public var paddingID: Int? { Self.optionalID(skipdit_spm_pad_id(handle)) }

    private static func optionalID(_ id: Int32) -> Int? { id >= 0 ? Int(id) : nil }
}
