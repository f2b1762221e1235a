// A cache of prompt embeddings so a batch of seeds (or a resumed job) encodes each prompt once:
// in memory for the process, and optionally on disk, keyed by the model identity (weights,
// tokenizer, precision, max length), the prompt, the negative prompt and the preprocessing.
// Disk entries are single files written atomically (temporary file, fsync, rename); each holds
// its full key, which is compared on read, so a hash collision or a stale file is a miss.
//
// File format (little-endian): "SKIPDIT-T5EMB 1\n", one line of JSON {"key", "k", "d",
// "unconditional"}, then K·D float32 conditional states and, if present, K·D unconditional.

import Foundation
import TensorCore

/// Memory (and optionally disk) cache of `PromptEmbeddings`. Thread-safe.
public final class PromptEmbeddingCache: @unchecked Sendable {
    /// Where entries are stored on disk (nil: memory only).
    public let directory: URL?
    /// Entries kept in memory (least recently used dropped first).
    public let memoryCapacity: Int
    private let lock = NSLock()
    private var memory: [String: PromptEmbeddings] = [:]
    private var order: [String] = []
    /// Encodes computed (cache misses) since creation.
    public private(set) var computeCount = 0

    private static let magic = Array("SKIPDIT-T5EMB 1\n".utf8)

    public init(directory: URL? = nil, memoryCapacity: Int = 32) {
        self.directory = directory
        self.memoryCapacity = max(1, memoryCapacity)
    }

    /// The exact text an entry is keyed by.
    public static func key(for request: PromptRequest, model: String) -> String {
        let fields: [String] = [
            model, request.preprocessing.rawValue, request.withNegative ? "cfg" : "nocfg", request.prompt,
            request.negativePrompt,
        ]
        return fields.map { "\($0.utf8.count):\($0)" }.joined(separator: "|")
    }

    /// The file name of an entry: 128 bits of FNV-1a over the key.
    public static func fileName(forKey key: String) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x6c62_272e_07bb_0142
        for byte in key.utf8 {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = b ^ (b >> 29)
        }
        return String(format: "%016llx%016llx.t5emb", a, b)
    }

    /// The cached embeddings of `request` for `model`, or `compute()`'s result (then stored).
    public func embeddings(
        for request: PromptRequest, model: String, compute: () throws(TextEncoderError) -> PromptEmbeddings
    ) throws(TextEncoderError) -> PromptEmbeddings {
        let key = Self.key(for: request, model: model)
        if let hit = fromMemory(key) { return hit }
        if let dir = directory, let hit = try read(dir.appendingPathComponent(Self.fileName(forKey: key)), key: key) {
            remember(key, hit)
            return hit
        }
        let value = try compute()
        lock.lock()
        computeCount += 1
        lock.unlock()
        remember(key, value)
        if let dir = directory { try write(value, key: key, to: dir) }
        return value
    }

    /// Forgets the in-memory entries (disk entries stay).
    public func removeAllFromMemory() {
        lock.lock()
        memory.removeAll()
        order.removeAll()
        lock.unlock()
    }

    private func fromMemory(_ key: String) -> PromptEmbeddings? {
        lock.lock()
        defer { lock.unlock() }
        guard let hit = memory[key] else { return nil }
        order.removeAll { $0 == key }
        order.append(key)
        return hit
    }

    private func remember(_ key: String, _ value: PromptEmbeddings) {
        lock.lock()
        defer { lock.unlock() }
        if memory[key] == nil, memory.count >= memoryCapacity, let oldest = order.first {
            memory[oldest] = nil
            order.removeFirst()
        }
        memory[key] = value
        order.removeAll { $0 == key }
        order.append(key)
    }

    private struct Header: Codable {
        var key: String
        var k: Int
        var d: Int
        var unconditional: Bool
    }

    /// The entry at `url` if it exists and holds exactly `key`; nil otherwise.
    private func read(_ url: URL, key: String) throws(TextEncoderError) -> PromptEmbeddings? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let bytes = [UInt8](data)
        guard bytes.count > Self.magic.count, Array(bytes[0..<Self.magic.count]) == Self.magic,
            let newline = bytes[Self.magic.count...].firstIndex(of: 0x0A),
            let header = try? JSONDecoder().decode(Header.self, from: Data(bytes[Self.magic.count..<newline])),
            header.key == key, header.k > 0, header.d > 0
        else { return nil }
        let count = header.k * header.d
        let tensors = header.unconditional ? 2 : 1
        let start = newline + 1
        guard bytes.count - start == tensors * count * 4 else { return nil }
        func tensor(_ index: Int) -> Tensor {
            var t = Tensor(zeros: [header.k, header.d])
            let p = t.mutablePointer()
            bytes.withUnsafeBytes { raw in
                for i in 0..<count {
                    p[i] = Float(
                        bitPattern: UInt32(
                            littleEndian: raw.loadUnaligned(
                                fromByteOffset: start + (index * count + i) * 4, as: UInt32.self)))
                }
            }
            return t
        }
        return PromptEmbeddings(conditional: tensor(0), unconditional: header.unconditional ? tensor(1) : nil)
    }

    /// Writes an entry atomically: a temporary file in the same folder, fsync, rename.
    private func write(_ value: PromptEmbeddings, key: String, to dir: URL) throws(TextEncoderError) {
        let final = dir.appendingPathComponent(Self.fileName(forKey: key))
        let header = Header(key: key, k: value.tokenCount, d: value.channels, unconditional: value.unconditional != nil)
        var bytes = Self.magic
        do { bytes += try JSONEncoder().encode(header) } catch { throw .cache(path: final.path, reason: "\(error)") }
        bytes.append(0x0A)
        for t in [value.conditional] + (value.unconditional.map { [$0] } ?? []) {
            t.withUnsafeBufferPointer { buffer in
                for v in buffer {
                    let b = v.bitPattern.littleEndian
                    bytes += [UInt8(b & 0xFF), UInt8((b >> 8) & 0xFF), UInt8((b >> 16) & 0xFF), UInt8(b >> 24)]
                }
            }
        }
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw .cache(path: dir.path, reason: "cannot create the folder (\(error.localizedDescription))")
        }
        let temporary = dir.appendingPathComponent(
            ".\(final.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .cache(path: temporary.path, reason: "cannot create (\(String(cString: strerror(errno))))")
        }
        var failure: String?
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count, let base = raw.baseAddress {
                let n = Foundation.write(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = "write failed (\(String(cString: strerror(errno))))"
                    return
                }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = "fsync failed (\(String(cString: strerror(errno))))" }
        close(fd)
        if failure == nil, rename(temporary.path, final.path) != 0 {
            failure = "rename failed (\(String(cString: strerror(errno))))"
        }
        if let failure {
            unlink(temporary.path)
            throw .cache(path: final.path, reason: failure)
        }
        let dirFD = open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }
}
