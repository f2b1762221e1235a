// VideoIOError: the typed errors of the VideoIO module (MP4 and PNG writing). Each carries the
// destination path, the failing call and FFmpeg's or the OS's error text, plus a hint.

import Foundation

/// Why writing a video or a poster failed.
public enum VideoIOError: Error, CustomStringConvertible, Sendable {
    /// The frame size cannot be encoded in the requested mode (e.g. odd sizes in yuv420p).
    case invalidSize(width: Int, height: Int, reason: String, path: String)
    /// An encoding option is out of range (fps, CRF, preset, threads).
    case invalidOption(name: String, value: String, reason: String, path: String)
    /// A libav* call failed; `message` is av_strerror's text for `code`.
    case libav(call: String, code: Int32, message: String, path: String)
    /// A system call on the temp or final file failed; `message` is strerror's text for `code`.
    case system(call: String, code: Int32, message: String, path: String)
    /// The writer was used after it finished, failed or was cancelled, or finished with no frames.
    case invalidState(String, path: String)

    /// The destination path the error is about.
    public var path: String {
        switch self {
        case .invalidSize(_, _, _, let path), .invalidOption(_, _, _, let path), .libav(_, _, _, let path),
            .system(_, _, _, let path), .invalidState(_, let path):
            return path
        }
    }

    public var description: String {
        switch self {
        case .invalidSize(let width, let height, let reason, let path):
            return "\(path): cannot encode \(width)x\(height) frames: \(reason)"
                + " (hint: crop or pad the frames to even sizes, or use lossless mode)"
        case .invalidOption(let name, let value, let reason, let path):
            return "\(path): invalid \(name) '\(value)': \(reason)"
        case .libav(let call, let code, let message, let path):
            return "\(path): \(call) failed: \(message) (AVERROR \(code))" + Self.hint(code: code)
        case .system(let call, let code, let message, let path):
            return "\(path): \(call) failed: \(message) (errno \(code))" + Self.hint(code: -code)
        case .invalidState(let message, let path):
            return "\(path): \(message)"
        }
    }

    /// A hint for the common causes, keyed by the negative errno that AVERROR(e) is on Linux.
    private static func hint(code: Int32) -> String {
        switch -code {
        case ENOENT, ENOTDIR: return " (hint: does the destination directory exist?)"
        case EACCES, EPERM, EROFS: return " (hint: is the destination directory writable?)"
        case ENOSPC, EDQUOT: return " (hint: the destination filesystem is full)"
        default: return ""
        }
    }
}
