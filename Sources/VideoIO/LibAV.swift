// The Swift wrapper over FFmpeg 5.1's C libraries (libavformat, libavcodec, libswscale, libavutil).
// Every C resource is owned by one final class that frees it in deinit, every return code is
// checked and turned into VideoIOError (with av_strerror's text and the destination path). This is
// the only file of VideoIO that touches C pointers; nothing here is public.

import CFFmpeg
import Foundation

/// Shared helpers: logging, error text, return-code checks.
enum LibAV {
    /// libx264 logs per-encode statistics at info level; keep only errors on stderr.
    static let quietLogging: Void = { av_log_set_level(AV_LOG_ERROR) }()

    /// av_strerror's text for an AVERROR code.
    static func errorText(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(AV_ERROR_MAX_STRING_SIZE))
        _ = av_strerror(code, &buffer, buffer.count)
        return String(cString: buffer)
    }

    static func error(_ call: String, _ code: Int32, _ path: String) -> VideoIOError {
        .libav(call: call, code: code, message: errorText(code), path: path)
    }

    /// Throws for a negative return code; returns it otherwise.
    @discardableResult
    static func check(_ code: Int32, _ call: String, _ path: String) throws(VideoIOError) -> Int32 {
        guard code >= 0 else { throw error(call, code, path) }
        return code
    }

    static func outOfMemory(_ call: String, _ path: String) -> VideoIOError {
        error(call, -ENOMEM, path)
    }
}

/// Pixel layouts the writers use.
enum PixelLayout {
    /// Planar 4:2:0 YUV (H.264 delivery).
    case yuv420p
    /// Packed RGB, 3 bytes per pixel (lossless H.264 RGB, PNG).
    case rgb24

    var avFormat: AVPixelFormat {
        switch self {
        case .yuv420p: return AV_PIX_FMT_YUV420P
        case .rgb24: return AV_PIX_FMT_RGB24
        }
    }
}

/// The four colour fields written into the stream (SPS VUI and the mp4 `colr` box).
enum ColourTags {
    /// BT.709 primaries, transfer and matrix, limited (TV) range: what `Scaler` converts to.
    case bt709Limited
    /// RGB coded as-is (GBR "matrix"), BT.709 primaries and transfer, full range.
    case rgbFull

    fileprivate func apply(to context: UnsafeMutablePointer<AVCodecContext>) {
        context.pointee.color_primaries = AVCOL_PRI_BT709
        context.pointee.color_trc = AVCOL_TRC_BT709
        switch self {
        case .bt709Limited:
            context.pointee.colorspace = AVCOL_SPC_BT709
            context.pointee.color_range = AVCOL_RANGE_MPEG
        case .rgbFull:
            context.pointee.colorspace = AVCOL_SPC_RGB
            context.pointee.color_range = AVCOL_RANGE_JPEG
        }
    }
}

/// An AVDictionary of options; after use, the entries the callee did not consume remain.
final class AVOptions {
    var raw: OpaquePointer?

    init(_ entries: [(String, String)], path: String) throws(VideoIOError) {
        for (key, value) in entries {
            try LibAV.check(av_dict_set(&raw, key, value, 0), "av_dict_set(\(key))", path)
        }
    }

    deinit { av_dict_free(&raw) }

    /// Keys nobody consumed (unknown or inapplicable options).
    var leftoverKeys: [String] {
        var keys: [String] = []
        var entry: UnsafeMutablePointer<AVDictionaryEntry>? = nil
        while let next = av_dict_get(raw, "", entry, AV_DICT_IGNORE_SUFFIX) {
            keys.append(String(cString: next.pointee.key))
            entry = next
        }
        return keys
    }
}

/// An AVFrame with its own buffers.
final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>
    private let path: String

    init(width: Int, height: Int, layout: PixelLayout, path: String) throws(VideoIOError) {
        guard let frame = av_frame_alloc() else { throw LibAV.outOfMemory("av_frame_alloc", path) }
        pointer = frame
        self.path = path
        frame.pointee.format = layout.avFormat.rawValue
        frame.pointee.width = Int32(width)
        frame.pointee.height = Int32(height)
        try LibAV.check(av_frame_get_buffer(frame, 0), "av_frame_get_buffer", path)
    }

    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&frame)
    }

    /// Makes the buffers writable (the encoder may still reference the previous contents).
    func makeWritable() throws(VideoIOError) {
        try LibAV.check(av_frame_make_writable(pointer), "av_frame_make_writable", path)
    }

    var pts: Int64 {
        get { pointer.pointee.pts }
        set { pointer.pointee.pts = newValue }
    }

    /// Copies packed RGB24 rows (stride 3*W) into plane 0 of an rgb24 frame.
    func copyPacked(rgb: UnsafeBufferPointer<UInt8>) {
        let width = Int(pointer.pointee.width), height = Int(pointer.pointee.height)
        precondition(pointer.pointee.format == AV_PIX_FMT_RGB24.rawValue && rgb.count == width * height * 3)
        guard let source = rgb.baseAddress, let plane = pointer.pointee.data.0 else { return }
        let stride = Int(pointer.pointee.linesize.0)
        for y in 0..<height {
            (plane + y * stride).update(from: source + y * width * 3, count: width * 3)
        }
    }

    /// Runs `body` with the data and linesize arrays as C arrays (for sws_scale).
    fileprivate func withPlanes<R>(
        _ body: (UnsafePointer<UnsafeMutablePointer<UInt8>?>, UnsafePointer<Int32>) -> R
    ) -> R {
        withUnsafePointer(to: &pointer.pointee.data) { data in
            withUnsafePointer(to: &pointer.pointee.linesize) { lines in
                data.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: Int(AV_NUM_DATA_POINTERS)) {
                    planes in
                    lines.withMemoryRebound(to: Int32.self, capacity: Int(AV_NUM_DATA_POINTERS)) { strides in
                        body(planes, strides)
                    }
                }
            }
        }
    }
}

/// An AVPacket.
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>

    init(path: String) throws(VideoIOError) {
        guard let packet = av_packet_alloc() else { throw LibAV.outOfMemory("av_packet_alloc", path) }
        pointer = packet
    }

    deinit {
        var packet: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&packet)
    }

    /// The payload, copied out.
    var bytes: [UInt8] {
        guard let data = pointer.pointee.data, pointer.pointee.size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(pointer.pointee.size)))
    }

    func unref() { av_packet_unref(pointer) }
}

/// An encoder (AVCodecContext) found by name.
final class Encoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    private let codec: UnsafePointer<AVCodec>
    private let path: String

    init(name: String, path: String) throws(VideoIOError) {
        _ = LibAV.quietLogging
        guard let codec = avcodec_find_encoder_by_name(name) else {
            throw LibAV.error("avcodec_find_encoder_by_name(\(name))", skipdit_averror_encoder_not_found(), path)
        }
        guard let context = avcodec_alloc_context3(codec) else {
            throw LibAV.outOfMemory("avcodec_alloc_context3(\(name))", path)
        }
        self.codec = codec
        self.context = context
        self.path = path
    }

    deinit {
        var context: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&context)
    }

    /// Sets size, pixel layout, time base 1/fps, frame rate, GOP, threads and colour tags.
    func configure(
        width: Int, height: Int, layout: PixelLayout, fps: Int, gopSize: Int, threads: Int, colour: ColourTags?,
        globalHeader: Bool
    ) {
        let c = context
        c.pointee.width = Int32(width)
        c.pointee.height = Int32(height)
        c.pointee.pix_fmt = layout.avFormat
        c.pointee.time_base = AVRational(num: 1, den: Int32(fps))
        c.pointee.framerate = AVRational(num: Int32(fps), den: 1)
        c.pointee.gop_size = Int32(gopSize)
        c.pointee.thread_count = Int32(threads)
        colour?.apply(to: c)
        if globalHeader { c.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER) }
    }

    /// avcodec_open2 with private options; an option the encoder did not take is an error.
    func open(options: [(String, String)]) throws(VideoIOError) {
        let dictionary = try AVOptions(options, path: path)
        try LibAV.check(avcodec_open2(context, codec, &dictionary.raw), "avcodec_open2(\(name))", path)
        if let key = dictionary.leftoverKeys.first {
            let value = options.first { $0.0 == key }?.1 ?? ""
            throw .invalidOption(name: key, value: value, reason: "not accepted by encoder \(name)", path: path)
        }
    }

    var name: String { String(cString: codec.pointee.name) }

    var timeBase: AVRational { context.pointee.time_base }

    /// Sends a frame, or nil to start draining.
    func send(_ frame: Frame?) throws(VideoIOError) {
        try LibAV.check(avcodec_send_frame(context, frame?.pointer), "avcodec_send_frame", path)
    }

    /// Receives the next packet; false when the encoder needs more input or is drained.
    func receive(into packet: Packet) throws(VideoIOError) -> Bool {
        let rc = avcodec_receive_packet(context, packet.pointer)
        if rc == skipdit_averror_eagain() || rc == skipdit_averror_eof() { return false }
        try LibAV.check(rc, "avcodec_receive_packet", path)
        return true
    }
}

/// An output container (AVFormatContext) and its AVIOContext, writing to `ioPath`.
final class OutputFormat {
    private let context: UnsafeMutablePointer<AVFormatContext>
    private let path: String
    private let ioPath: String
    private var ioOpen = false

    /// `muxer` is named explicitly because the temp file's extension says nothing.
    init(muxer: String, ioPath: String, path: String) throws(VideoIOError) {
        _ = LibAV.quietLogging
        var raw: UnsafeMutablePointer<AVFormatContext>? = nil
        try LibAV.check(
            avformat_alloc_output_context2(&raw, nil, muxer, ioPath), "avformat_alloc_output_context2(\(muxer))", path)
        guard let raw else { throw LibAV.outOfMemory("avformat_alloc_output_context2", path) }
        context = raw
        self.path = path
        self.ioPath = ioPath
    }

    deinit {
        if ioOpen { avio_closep(&context.pointee.pb) }
        avformat_free_context(context)
    }

    /// Whether encoders must put SPS/PPS in extradata (true for mp4).
    var wantsGlobalHeader: Bool { (context.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER) != 0 }

    /// Adds a stream carrying the opened encoder's parameters; returns its index.
    func addStream(for encoder: Encoder, fps: Int) throws(VideoIOError) -> Int32 {
        guard let stream = avformat_new_stream(context, nil) else {
            throw LibAV.outOfMemory("avformat_new_stream", path)
        }
        try LibAV.check(
            avcodec_parameters_from_context(stream.pointee.codecpar, encoder.context),
            "avcodec_parameters_from_context", path)
        stream.pointee.time_base = encoder.timeBase  // a hint; the muxer picks its own in write_header
        stream.pointee.avg_frame_rate = AVRational(num: Int32(fps), den: 1)
        return stream.pointee.index
    }

    /// Opens the temp file for writing.
    func openIO() throws(VideoIOError) {
        try LibAV.check(avio_open(&context.pointee.pb, ioPath, AVIO_FLAG_WRITE), "avio_open(\(ioPath))", path)
        ioOpen = true
    }

    /// Writes the header; every muxer option must be consumed (proves e.g. movflags took).
    func writeHeader(options: [(String, String)]) throws(VideoIOError) {
        let dictionary = try AVOptions(options, path: path)
        try LibAV.check(avformat_write_header(context, &dictionary.raw), "avformat_write_header", path)
        if let key = dictionary.leftoverKeys.first {
            let value = options.first { $0.0 == key }?.1 ?? ""
            throw .invalidOption(name: key, value: value, reason: "not accepted by the muxer", path: path)
        }
    }

    /// Rescales the packet from the encoder's time base to the stream's and writes it (consumes it).
    func write(_ packet: Packet, stream: Int32, from timeBase: AVRational) throws(VideoIOError) {
        guard let streamPointer = context.pointee.streams[Int(stream)] else {
            throw LibAV.error("streams[\(stream)]", -EINVAL, path)
        }
        av_packet_rescale_ts(packet.pointer, timeBase, streamPointer.pointee.time_base)
        packet.pointer.pointee.stream_index = stream
        try LibAV.check(av_interleaved_write_frame(context, packet.pointer), "av_interleaved_write_frame", path)
        try checkIOError("av_interleaved_write_frame")
    }

    /// Flushes the interleaving queue and writes the trailer (mp4 faststart: the second pass).
    func writeTrailer() throws(VideoIOError) {
        try LibAV.check(av_write_trailer(context), "av_write_trailer", path)
        try checkIOError("av_write_trailer")
    }

    /// Flushes and closes the temp file; reports a deferred write error (e.g. ENOSPC).
    func closeIO() throws(VideoIOError) {
        guard ioOpen else { return }
        ioOpen = false
        try LibAV.check(avio_closep(&context.pointee.pb), "avio_closep(\(ioPath))", path)
    }

    /// Buffered AVIO writes fail silently into pb->error; surface it.
    private func checkIOError(_ call: String) throws(VideoIOError) {
        if let io = context.pointee.pb, io.pointee.error < 0 {
            throw LibAV.error("\(call) (writing \(ioPath))", io.pointee.error, path)
        }
    }
}

/// An RGB24 -> YUV 4:2:0 converter (SwsContext) with the BT.709 matrix, full-range RGB in,
/// limited-range YUV out: the conversion `ColourTags.bt709Limited` describes.
final class Scaler {
    private let context: OpaquePointer
    /// A padded rgb24 copy of the input: swscale's SIMD row readers read up to 16 bytes past the end
    /// of the last row (valgrind caught it), so they must never see the caller's exact-size buffer.
    private let source: Frame
    private let width: Int
    private let height: Int
    private let path: String

    init(width: Int, height: Int, path: String) throws(VideoIOError) {
        guard
            let context = sws_getContext(
                Int32(width), Int32(height), AV_PIX_FMT_RGB24, Int32(width), Int32(height), AV_PIX_FMT_YUV420P,
                SWS_BICUBIC | SWS_ACCURATE_RND, nil, nil, nil)
        else { throw LibAV.error("sws_getContext(rgb24 -> yuv420p)", -EINVAL, path) }
        self.context = context
        self.width = width
        self.height = height
        self.path = path
        do throws(VideoIOError) {
            source = try Frame(width: width, height: height, layout: .rgb24, path: path)
        } catch {
            sws_freeContext(context)
            throw error
        }
        // For RGB input the destination table picks the matrix; 1 = full-range RGB, 0 = limited YUV.
        let bt709 = sws_getCoefficients(SWS_CS_ITU709)
        let rc = sws_setColorspaceDetails(context, bt709, 1, bt709, 0, 0, 1 << 16, 1 << 16)
        try LibAV.check(rc, "sws_setColorspaceDetails(BT.709, limited range)", path)
    }

    deinit { sws_freeContext(context) }

    /// Converts packed RGB24 rows (stride 3*W) into the yuv420p frame.
    func convert(rgb: UnsafeBufferPointer<UInt8>, into frame: Frame) throws(VideoIOError) {
        precondition(rgb.count == width * height * 3)
        source.copyPacked(rgb: rgb)
        var sourcePlanes: [UnsafePointer<UInt8>?] = [UnsafePointer(source.pointer.pointee.data.0), nil, nil, nil]
        var sourceStrides: [Int32] = [source.pointer.pointee.linesize.0, 0, 0, 0]
        let rows = frame.withPlanes { planes, strides in
            sws_scale(context, &sourcePlanes, &sourceStrides, 0, Int32(height), planes, strides)
        }
        try LibAV.check(rows, "sws_scale", path)
        guard rows == Int32(height) else {
            throw LibAV.error("sws_scale (wrote \(rows) of \(height) rows)", -EINVAL, path)
        }
    }
}
