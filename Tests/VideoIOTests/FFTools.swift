// Independent checks of the files VideoIO writes: the ffprobe and ffmpeg command-line tools (Debian's
// ffmpeg package, installed by scripts/install-deps) run as subprocesses, and a reader of the
// top-level MP4 box order.

import Foundation
import XCTest

enum FFTools {
    struct ToolError: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs a tool from PATH; returns stdout. stdout and stderr go through files, so large outputs
    /// cannot deadlock a pipe.
    static func run(_ tool: String, _ arguments: [String]) throws -> Data {
        let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        guard
            let executable = searchPath.split(separator: ":").map({ "\($0)/\(tool)" })
                .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else {
            throw ToolError(
                description: "\(tool) not found in PATH; install Debian's ffmpeg package (scripts/install-deps)")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fftools-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("stdout"), err = scratch.appendingPathComponent("stderr")
        guard FileManager.default.createFile(atPath: out.path, contents: nil),
            FileManager.default.createFile(atPath: err.path, contents: nil)
        else { throw ToolError(description: "cannot create \(scratch.path)") }
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        let stderr = String(decoding: try Data(contentsOf: err), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw ToolError(
                description:
                    "\(tool) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(stderr)")
        }
        return try Data(contentsOf: out)
    }

    /// ffprobe's view of the first video stream and the format, after counting frames.
    static func probe(_ url: URL) throws -> (stream: [String: Any], format: [String: Any]) {
        let json = try run(
            "ffprobe",
            [
                "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
                "stream=codec_name,profile,pix_fmt,width,height,nb_frames,nb_read_frames,r_frame_rate,avg_frame_rate,"
                    + "time_base,duration,color_range,color_space,color_primaries,color_transfer:format=duration,format_name",
                "-of", "json", url.path,
            ])
        guard let root = try JSONSerialization.jsonObject(with: json) as? [String: Any],
            let streams = root["streams"] as? [[String: Any]], let stream = streams.first,
            let format = root["format"] as? [String: Any]
        else { throw ToolError(description: "unexpected ffprobe output: \(String(decoding: json, as: UTF8.self))") }
        return (stream, format)
    }

    /// Decodes a video or image to packed rgb24 with ffmpeg. Extra filter options (e.g. forcing the
    /// input matrix) go before the conversion; by default the scale filter honours the stream's tags.
    static func decodeRGB(_ url: URL, filter: String? = nil) throws -> [UInt8] {
        var arguments = ["-v", "error", "-i", url.path]
        if let filter { arguments += ["-vf", filter] }
        arguments += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
        return [UInt8](try run("ffmpeg", arguments))
    }

    /// The types of the top-level boxes of an MP4/ISO-BMFF file, in order.
    static func topLevelBoxes(_ url: URL) throws -> [String] {
        let data = [UInt8](try Data(contentsOf: url))
        var boxes: [String] = []
        var offset = 0
        func be(_ at: Int, _ count: Int) -> UInt64 {
            data[at..<at + count].reduce(0) { $0 << 8 | UInt64($1) }
        }
        while offset + 8 <= data.count {
            var size = be(offset, 4)
            let type = String(decoding: data[offset + 4..<offset + 8], as: UTF8.self)
            if size == 1 {
                guard offset + 16 <= data.count else { break }
                size = be(offset + 8, 8)
            } else if size == 0 {
                size = UInt64(data.count - offset)
            }
            guard size >= 8 else { throw ToolError(description: "bad box size \(size) at \(offset) in \(url.path)") }
            boxes.append(type)
            offset += Int(size)
        }
        guard offset == data.count else { throw ToolError(description: "trailing bytes after boxes in \(url.path)") }
        return boxes
    }
}
