// AtomicFile: the temp-file-then-rename protocol that keeps readers from ever seeing a partial
// output. The temp file lives in the destination directory (rename is atomic only within one
// filesystem) under a hidden, unique name; commit() fsyncs it, renames it over the destination and
// fsyncs the directory, so the new name survives a crash; discard() unlinks it. A writer killed before
// its commit leaves the temp file behind: PartialOutput finds such files by destination and writer pid.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct AtomicFile {
    /// Where the finished file appears.
    let finalPath: String
    /// The hidden temp file in the same directory: ".<name>.<pid>.<random>.tmp".
    let tempPath: String
    /// The destination directory.
    let directoryPath: String

    init(destination: URL) {
        let url = destination.standardizedFileURL
        finalPath = url.path
        directoryPath = url.deletingLastPathComponent().path
        let token = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        tempPath =
            url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(token).tmp").path
    }

    /// Creates the temp file (exclusively) and writes `bytes` to it.
    func write(_ bytes: [UInt8]) throws(VideoIOError) {
        let fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw Self.systemError("open", tempPath, finalPath) }
        var failure: VideoIOError?
        var offset = 0
        bytes.withUnsafeBytes { raw in
            while offset < raw.count, let base = raw.baseAddress {
                let n = posixWrite(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = Self.systemError("write", tempPath, finalPath)
                    return
                }
                offset += n
            }
        }
        if close(fd) != 0, failure == nil { failure = Self.systemError("close", tempPath, finalPath) }
        if let failure { throw failure }
    }

    /// fsyncs the temp file, renames it over the destination and fsyncs the directory.
    func commit() throws(VideoIOError) {
        try Self.fsyncPath(tempPath, flags: O_RDONLY, reportAs: finalPath, directory: false)
        guard rename(tempPath, finalPath) == 0 else { throw Self.systemError("rename", tempPath, finalPath) }
        try Self.fsyncPath(directoryPath, flags: O_RDONLY | O_DIRECTORY, reportAs: finalPath, directory: true)
    }

    /// Removes the temp file if it exists; used on every failure path.
    func discard() {
        _ = unlink(tempPath)
    }

    private static func fsyncPath(_ path: String, flags: Int32, reportAs: String, directory: Bool)
        throws(VideoIOError)
    {
        let fd = open(path, flags | O_CLOEXEC)
        guard fd >= 0 else { throw systemError("open", path, reportAs) }
        let rc = fsync(fd)
        let code = errno
        close(fd)
        // Some filesystems cannot fsync a directory (EINVAL); the rename itself has happened then.
        if rc != 0 && !(directory && code == EINVAL) {
            throw .system(call: "fsync(\(path))", code: code, message: String(cString: strerror(code)), path: reportAs)
        }
    }

    private static func systemError(_ call: String, _ on: String, _ path: String) -> VideoIOError {
        let code = errno
        return .system(call: "\(call)(\(on))", code: code, message: String(cString: strerror(code)), path: path)
    }
}

/// write(2), named apart from AtomicFile.write(_:).
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}

/// The leftovers of atomic writes that never reached their rename: a writer (MP4Writer, PosterWriter)
/// killed mid-file leaves its hidden temp file ".<name>.<pid>.<token>.tmp" next to the destination.
public enum PartialOutput {
    /// The temp files next to `destination` and the pid of the process that wrote each.
    public static func leftovers(of destination: URL) -> [(url: URL, pid: Int32)] {
        let url = destination.standardizedFileURL
        let directory = url.deletingLastPathComponent()
        let prefix = ".\(url.lastPathComponent)."
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return names.sorted().compactMap { name in
            guard name.hasPrefix(prefix), name.hasSuffix(".tmp") else { return nil }
            let middle = name.dropFirst(prefix.count).dropLast(4).split(
                separator: ".", omittingEmptySubsequences: false)
            guard middle.count == 2, let pid = Int32(middle[0]), pid > 0, UInt32(middle[1], radix: 16) != nil else {
                return nil
            }
            return (directory.appendingPathComponent(name), pid)
        }
    }

    /// Removes the temp files that the processes `pids` left next to `destination`; returns them.
    /// Only for writers known to be gone (or to have lost the output to this process): a live writer's
    /// temp file vanishing makes its rename fail.
    @discardableResult
    public static func removeLeftovers(of destination: URL, writtenBy pids: Set<Int32>) -> [URL] {
        leftovers(of: destination).filter { pids.contains($0.pid) && unlink($0.url.path) == 0 }.map(\.url)
    }
}
