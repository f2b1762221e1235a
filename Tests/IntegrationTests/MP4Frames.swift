// Reads an MP4's frames back as RGB with the ffmpeg command-line tool (installed by scripts/install-deps),
// an independent decoder of what skipdit wrote.

import Foundation

enum MP4Frames {
    /// The frames of `url` as (height, width, 3) uint8 arrays; fails unless the video is width x height.
    static func read(_ url: URL, width: Int, height: Int) throws -> [[UInt8]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "ffmpeg", "-v", "error", "-i", url.path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
        ]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let frameBytes = width * height * 3
        guard process.terminationStatus == 0, !data.isEmpty, data.count % frameBytes == 0 else {
            throw HarnessError(
                "ffmpeg could not decode \(url.path) to \(width)x\(height) RGB (status \(process.terminationStatus), "
                    + "\(data.count) bytes): \(message)")
        }
        let bytes = [UInt8](data)
        return stride(from: 0, to: bytes.count, by: frameBytes).map { Array(bytes[$0..<($0 + frameBytes)]) }
    }
}
