// MP4Writer: streams (H, W, 3) RGB uint8 frames into an H.264 MP4 through libavcodec (libx264),
// libswscale and libavformat, following the recipe in spec/vae-decoder.md section 9.
//
// Delivery mode (default): yuv420p, BT.709 matrix with limited range in swscale and all four colour
// fields tagged to match (bt709/bt709/bt709/tv), CRF 18, preset medium, time base 1/fps with
// pts = frame index, `+faststart` (moov before mdat). Lossless mode (archiving): libx264rgb at qp 0
// on the RGB frames themselves, so decoding gives the input back bit-exactly; it is High 4:4:4
// Predictive, which ffmpeg decodes but browsers and most players do not.
//
// The file is written under a hidden temp name in the destination directory and renamed into place
// only by finish(), after an fsync; any failure, cancel() or deinit removes the temp file, so no
// reader ever sees a partial MP4 at the destination.

import Foundation

/// Encoding settings for `MP4Writer`.
public struct MP4Options: Sendable, Equatable {
    /// x264 constant rate factor, 0...51 (lower is better; 18 keeps generated detail).
    public var crf: Int
    /// x264 preset, "ultrafast" ... "placebo".
    public var preset: String
    /// Archival mode: bit-exact RGB through libx264rgb at qp 0 (`crf` is ignored).
    public var lossless: Bool
    /// Encoder threads; 0 lets x264 choose. 1 leaves the cores to the VAE decoder.
    public var threads: Int

    /// The x264 presets, fastest first.
    public static let presets = [
        "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo",
    ]

    /// Defaults: CRF 18, preset medium, lossy yuv420p, one thread.
    public init(crf: Int = 18, preset: String = "medium", lossless: Bool = false, threads: Int = 1) {
        self.crf = crf
        self.preset = preset
        self.lossless = lossless
        self.threads = threads
    }
}

/// Writes RGB frames, one at a time, to an MP4 that appears at `url` only when complete.
public final class MP4Writer {
    /// The destination.
    public let url: URL
    /// Frame width in pixels.
    public let width: Int
    /// Frame height in pixels.
    public let height: Int
    /// Frames per second (the time base is 1/fps).
    public let fps: Int
    /// The encoding settings.
    public let options: MP4Options
    /// Frames appended so far.
    public private(set) var frameCount = 0

    private let file: AtomicFile
    private var session: EncodeSession?
    /// nil while open; otherwise why the writer no longer accepts calls.
    private var closedReason: String?

    /// Validates the settings, opens the encoder and creates the temp file next to `url`.
    public init(url: URL, width: Int, height: Int, fps: Int, options: MP4Options = MP4Options())
        throws(VideoIOError)
    {
        let path = url.path
        try Self.validate(width: width, height: height, fps: fps, options: options, path: path)
        self.url = url
        self.width = width
        self.height = height
        self.fps = fps
        self.options = options
        file = AtomicFile(destination: url)
        do throws(VideoIOError) {
            session = try EncodeSession(
                file: file, width: width, height: height, fps: fps, options: options, path: path)
        } catch {
            session = nil
            file.discard()
            throw error
        }
    }

    deinit { cancel() }

    /// Encodes one frame: H*W*3 bytes of RGB, row-major, top row first.
    public func append(rgb: UnsafeBufferPointer<UInt8>) throws(VideoIOError) {
        precondition(
            rgb.count == width * height * 3, "MP4Writer.append: \(rgb.count) bytes, expected \(height)x\(width)x3")
        let session = try openSession()
        do throws(VideoIOError) {
            try session.encode(rgb: rgb, index: frameCount)
        } catch {
            abandon(reason: "failed")
            throw error
        }
        frameCount += 1
    }

    /// Encodes one frame: H*W*3 bytes of RGB, row-major, top row first.
    public func append(rgb: [UInt8]) throws(VideoIOError) {
        try rgb.withUnsafeBufferPointer { (buffer) throws(VideoIOError) in try append(rgb: buffer) }
    }

    /// Flushes the encoder, writes the trailer (moving moov to the front), fsyncs the file, renames it
    /// to `url` and fsyncs the directory.
    public func finish() throws(VideoIOError) {
        let session = try openSession()
        guard frameCount > 0 else {
            abandon(reason: "failed")
            throw .invalidState("no frames were appended; nothing written", path: url.path)
        }
        do throws(VideoIOError) {
            try session.finish()
            self.session = nil  // frees the libav resources before the rename
            try file.commit()
        } catch {
            abandon(reason: "failed")
            throw error
        }
        closedReason = "finished"
    }

    /// Stops without writing anything at `url`; removes the temp file. Safe to call at any time.
    public func cancel() {
        if closedReason == nil { abandon(reason: "cancelled") }
    }

    private func openSession() throws(VideoIOError) -> EncodeSession {
        guard closedReason == nil, let session else {
            throw .invalidState("the writer has already \(closedReason ?? "closed")", path: url.path)
        }
        return session
    }

    private func abandon(reason: String) {
        session = nil
        file.discard()
        closedReason = reason
    }

    private static func validate(width: Int, height: Int, fps: Int, options: MP4Options, path: String)
        throws(VideoIOError)
    {
        guard width > 0, height > 0, width <= 16384, height <= 16384 else {
            throw .invalidSize(width: width, height: height, reason: "sides must be 1...16384", path: path)
        }
        if !options.lossless && (width % 2 != 0 || height % 2 != 0) {
            throw .invalidSize(
                width: width, height: height, reason: "yuv420p needs even width and height", path: path)
        }
        guard (1...1000).contains(fps) else {
            throw .invalidOption(name: "fps", value: "\(fps)", reason: "must be 1...1000", path: path)
        }
        guard (0...51).contains(options.crf) else {
            throw .invalidOption(name: "crf", value: "\(options.crf)", reason: "must be 0...51", path: path)
        }
        guard MP4Options.presets.contains(options.preset) else {
            throw .invalidOption(
                name: "preset", value: options.preset,
                reason: "must be one of \(MP4Options.presets.joined(separator: ", "))", path: path)
        }
        guard (0...64).contains(options.threads) else {
            throw .invalidOption(name: "threads", value: "\(options.threads)", reason: "must be 0...64", path: path)
        }
    }
}

/// The libav objects of one encode: muxer, encoder, converter, frame and packet.
private final class EncodeSession {
    private let output: OutputFormat
    private let encoder: Encoder
    private let scaler: Scaler?
    private let frame: Frame
    private let packet: Packet
    private let stream: Int32

    init(file: AtomicFile, width: Int, height: Int, fps: Int, options: MP4Options, path: String)
        throws(VideoIOError)
    {
        output = try OutputFormat(muxer: "mp4", ioPath: file.tempPath, path: path)
        let layout: PixelLayout = options.lossless ? .rgb24 : .yuv420p
        encoder = try Encoder(name: options.lossless ? "libx264rgb" : "libx264", path: path)
        encoder.configure(
            width: width, height: height, layout: layout, fps: fps, gopSize: 2 * fps, threads: options.threads,
            colour: options.lossless ? .rgbFull : .bt709Limited, globalHeader: output.wantsGlobalHeader)
        let quality = options.lossless ? ("qp", "0") : ("crf", "\(options.crf)")
        try encoder.open(options: [("preset", options.preset), quality])
        stream = try output.addStream(for: encoder, fps: fps)
        scaler = options.lossless ? nil : try Scaler(width: width, height: height, path: path)
        frame = try Frame(width: width, height: height, layout: layout, path: path)
        packet = try Packet(path: path)
        try output.openIO()
        try output.writeHeader(options: [("movflags", "+faststart")])
    }

    /// Converts and sends frame `index` (pts = index in 1/fps), then writes the packets ready.
    func encode(rgb: UnsafeBufferPointer<UInt8>, index: Int) throws(VideoIOError) {
        try frame.makeWritable()
        if let scaler {
            try scaler.convert(rgb: rgb, into: frame)
        } else {
            frame.copyPacked(rgb: rgb)
        }
        frame.pts = Int64(index)
        try encoder.send(frame)
        try drain()
    }

    /// Drains the encoder, writes the trailer and closes the temp file.
    func finish() throws(VideoIOError) {
        try encoder.send(nil)
        try drain()
        try output.writeTrailer()
        try output.closeIO()
    }

    private func drain() throws(VideoIOError) {
        while try encoder.receive(into: packet) {
            try output.write(packet, stream: stream, from: encoder.timeBase)
        }
    }
}
