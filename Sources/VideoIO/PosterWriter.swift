// PosterWriter: one RGB frame as a PNG (libavcodec's PNG encoder, rgb24, lossless), written
// atomically (temp file in the destination directory, fsync, rename), to sit next to a video.

import Foundation

/// Writes poster-frame PNGs.
public enum PosterWriter {
    /// The poster path for a video: the same name with the extension `.png`.
    public static func posterURL(forVideo video: URL) -> URL {
        video.deletingPathExtension().appendingPathExtension("png")
    }

    /// Encodes H*W*3 bytes of RGB (row-major, top row first) as a PNG at `url`.
    public static func writePNG(rgb: UnsafeBufferPointer<UInt8>, width: Int, height: Int, to url: URL)
        throws(VideoIOError)
    {
        precondition(width > 0 && height > 0 && rgb.count == width * height * 3, "PosterWriter: bad frame size")
        let bytes = try encodePNG(rgb: rgb, width: width, height: height, path: url.path)
        let file = AtomicFile(destination: url)
        do throws(VideoIOError) {
            try file.write(bytes)
            try file.commit()
        } catch {
            file.discard()
            throw error
        }
    }

    /// Encodes H*W*3 bytes of RGB (row-major, top row first) as a PNG at `url`.
    public static func writePNG(rgb: [UInt8], width: Int, height: Int, to url: URL) throws(VideoIOError) {
        try rgb.withUnsafeBufferPointer { (buffer) throws(VideoIOError) in
            try writePNG(rgb: buffer, width: width, height: height, to: url)
        }
    }

    private static func encodePNG(rgb: UnsafeBufferPointer<UInt8>, width: Int, height: Int, path: String)
        throws(VideoIOError) -> [UInt8]
    {
        let encoder = try Encoder(name: "png", path: path)
        encoder.configure(
            width: width, height: height, layout: .rgb24, fps: 1, gopSize: 1, threads: 1, colour: nil,
            globalHeader: false)
        try encoder.open(options: [])
        let frame = try Frame(width: width, height: height, layout: .rgb24, path: path)
        frame.copyPacked(rgb: rgb)
        frame.pts = 0
        let packet = try Packet(path: path)
        try encoder.send(frame)
        try encoder.send(nil)
        var bytes: [UInt8] = []
        while try encoder.receive(into: packet) {
            bytes += packet.bytes
            packet.unref()
        }
        guard !bytes.isEmpty else { throw LibAV.error("avcodec_receive_packet (png: no output)", -EINVAL, path) }
        return bytes
    }
}
