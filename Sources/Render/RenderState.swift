// The resumable state of a render, saved every few sampler steps so that a render killed at any
// point (kill -9, reboot) continues to bit-identical latents: which video, the next sampler
// iteration, the latents, and the Skip-Cache state (counter, cached stream and, for the adaptive
// policy, its reference stream and run length). The noise is counter-based (GaussianNoise), so the
// seed and the iteration are its whole RNG state.
//
// File format: "SKIPDIT-STATE 1\n", a UInt32 little-endian header length, a JSON header, then the
// raw little-endian float32 latents, the cached stream and the adaptive reference (each if any).
// States written before the adaptive policy existed lack its header fields and read as fixed ones.

import Foundation
import TensorCore

public struct RenderState: Sendable {
    /// Identifies the render parameters; a state saved for other parameters is not resumed.
    public var planDigest: String
    /// Index of the video (seed) being rendered; earlier videos are finished.
    public var videoIndex: Int
    /// The next sampler iteration to run (0 = not started).
    public var iteration: Int
    /// The sampler state x before `iteration`.
    public var latents: Tensor
    /// Skip-Cache call counter, and the cached stream if one is held.
    public var cacheCounter: Int
    public var cachedStream: Tensor?
    /// Adaptive Skip-Cache: the reference stream, the cached steps since the last full one and the
    /// change measured at the first of them.
    public var cacheReference: Tensor?
    public var cachedRun: Int
    public var runStartChange: Double
    /// Full and cached steps run so far for this video, and the iterations that ran full.
    public var fullSteps: Int
    public var cachedSteps: Int
    public var fullIterations: [Int]
    /// Seconds spent denoising this video so far (across restarts).
    public var denoiseSeconds: Double
    /// Outputs of the finished videos (relative paths), kept so the result record lists them.
    public var finishedVideos: [FinishedVideo]

    public init(
        planDigest: String, videoIndex: Int, iteration: Int, latents: Tensor, cacheCounter: Int, cachedStream: Tensor?,
        cacheReference: Tensor? = nil, cachedRun: Int = 0, runStartChange: Double = 0, fullSteps: Int = 0, cachedSteps: Int = 0,
        fullIterations: [Int] = [], denoiseSeconds: Double = 0, finishedVideos: [FinishedVideo]
    ) {
        self.planDigest = planDigest
        self.videoIndex = videoIndex
        self.iteration = iteration
        self.latents = latents
        self.cacheCounter = cacheCounter
        self.cachedStream = cachedStream
        self.cacheReference = cacheReference
        self.cachedRun = cachedRun
        self.runStartChange = runStartChange
        self.fullSteps = fullSteps
        self.cachedSteps = cachedSteps
        self.fullIterations = fullIterations
        self.denoiseSeconds = denoiseSeconds
        self.finishedVideos = finishedVideos
    }

    private struct Header: Codable {
        var planDigest: String
        var videoIndex: Int
        var iteration: Int
        var latentShape: [Int]
        var cacheCounter: Int
        var cachedShape: [Int]?
        var referenceShape: [Int]?
        var cachedRun: Int?
        var runStartChange: Double?
        var fullSteps: Int
        var cachedSteps: Int
        var fullIterations: [Int]?
        var denoiseSeconds: Double
        var finishedVideos: [FinishedVideo]
    }

    private static var magic: Data { Data("SKIPDIT-STATE 1\n".utf8) }

    /// The serialized state.
    public func encoded() throws -> Data {
        let header = Header(
            planDigest: planDigest, videoIndex: videoIndex, iteration: iteration, latentShape: latents.shape,
            cacheCounter: cacheCounter, cachedShape: cachedStream?.shape, referenceShape: cacheReference?.shape,
            cachedRun: cachedRun, runStartChange: runStartChange, fullSteps: fullSteps, cachedSteps: cachedSteps, fullIterations: fullIterations,
            denoiseSeconds: denoiseSeconds, finishedVideos: finishedVideos)
        let json = try JSONEncoder().encode(header)
        var data = Self.magic
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        latents.withUnsafeBufferPointer { data.append(Data(buffer: $0)) }
        cachedStream?.withUnsafeBufferPointer { data.append(Data(buffer: $0)) }
        cacheReference?.withUnsafeBufferPointer { data.append(Data(buffer: $0)) }
        return data
    }

    /// Parses a serialized state; a damaged file is an error (the caller starts over).
    public static func decode(_ data: Data) throws -> RenderState {
        func fail(_ why: String) -> RenderError { .badState(why) }
        guard data.count > magic.count + 4, data.prefix(magic.count) == magic else {
            throw fail("not a skipdit render state")
        }
        let lengthStart = data.startIndex + magic.count
        let length = data[lengthStart..<lengthStart + 4].enumerated().reduce(0) {
            $0 | Int($1.element) << (8 * $1.offset)
        }
        let jsonStart = lengthStart + 4
        guard length > 0, jsonStart + length <= data.endIndex else { throw fail("bad header length \(length)") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: data[jsonStart..<jsonStart + length]) } catch {
            throw fail("unreadable header: \(error)")
        }
        // Counters the encoder never writes negative (a damaged file must not reach the sampler).
        let counters = [
            ("videoIndex", header.videoIndex), ("iteration", header.iteration), ("cacheCounter", header.cacheCounter),
            ("fullSteps", header.fullSteps), ("cachedSteps", header.cachedSteps), ("cachedRun", header.cachedRun ?? 0),
        ] + (header.fullIterations ?? []).map { ("fullIterations", $0) }
        for (name, value) in counters where value < 0 { throw fail("\(name) is \(value)") }
        guard header.denoiseSeconds.isFinite, header.denoiseSeconds >= 0 else {
            throw fail("denoiseSeconds is \(header.denoiseSeconds)")
        }
        if let change = header.runStartChange, !(change >= 0) {
            throw fail("runStartChange is \(change)")
        }
        var offset = jsonStart + length
        func tensor(_ shape: [Int]) throws -> Tensor {
            // Each dimension and the element count are bounded before any arithmetic on them, so a
            // shape like [2^24 - 1, 2^24 - 1, 2^24 - 1] is an error, not an overflow trap.
            guard !shape.isEmpty, shape.count <= 8, shape.allSatisfy({ $0 > 0 && $0 < 1 << 24 }) else {
                throw fail("bad tensor shape \(shape)")
            }
            var count = 1
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, product <= 1 << 40 else { throw fail("bad tensor shape \(shape)") }
                count = product
            }
            let bytes = count * MemoryLayout<Float>.stride
            guard bytes <= data.endIndex - offset else { throw fail("truncated tensor data") }
            var t = Tensor(zeros: shape)
            let p = t.mutablePointer()
            data[offset..<offset + bytes].withUnsafeBytes { raw in
                if let base = raw.baseAddress { memcpy(p, base, bytes) }
            }
            offset += bytes
            return t
        }
        let latents = try tensor(header.latentShape)
        let cached = try header.cachedShape.map { try tensor($0) }
        let reference = try header.referenceShape.map { try tensor($0) }
        guard offset == data.endIndex else { throw fail("\(data.endIndex - offset) trailing bytes") }
        return RenderState(
            planDigest: header.planDigest, videoIndex: header.videoIndex, iteration: header.iteration, latents: latents,
            cacheCounter: header.cacheCounter, cachedStream: cached, cacheReference: reference,
            cachedRun: header.cachedRun ?? 0, runStartChange: header.runStartChange ?? 0, fullSteps: header.fullSteps, cachedSteps: header.cachedSteps,
            fullIterations: header.fullIterations ?? [], denoiseSeconds: header.denoiseSeconds,
            finishedVideos: header.finishedVideos)
    }
}

/// One finished video of a job.
public struct FinishedVideo: Sendable, Codable, Equatable {
    public var seed: Int
    /// Output path relative to the output directory.
    public var path: String
    public var poster: String
    public var sha256: String
    public var fullSteps: Int
    public var cachedSteps: Int
    /// The sampler iterations (0-based) that ran full, listed for adaptive Skip-Cache renders; nil otherwise.
    public var fullIterations: [Int]?
    /// Seconds per phase (denoise, decode, encode).
    public var timings: [String: Double]

    public init(
        seed: Int, path: String, poster: String, sha256: String, fullSteps: Int, cachedSteps: Int,
        timings: [String: Double]
    ) {
        self.seed = seed
        self.path = path
        self.poster = poster
        self.sha256 = sha256
        self.fullSteps = fullSteps
        self.cachedSteps = cachedSteps
        self.timings = timings
    }
}
