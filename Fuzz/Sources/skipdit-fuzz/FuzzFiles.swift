// Scratch files for the readers that take a path: one private folder per fuzzing process (libFuzzer's
// -fork/-jobs modes run several), removed at exit. Each write replaces the file (unlink, then create),
// so no mapping of an earlier input can see the new bytes.

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

enum FuzzFiles {
    nonisolated(unsafe) private(set) static var folder = URL(fileURLWithPath: "/tmp")

    static func setUp() {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(base)/skipdit-fuzz.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> UnsafeMutablePointer<CChar>? in
            guard let base = buffer.baseAddress else { return nil }
            return mkdtemp(base)
        }
        guard let made else {
            fputs("skipdit-fuzz: cannot create a scratch folder in \(base)\n", stderr)
            exit(2)
        }
        folder = URL(fileURLWithPath: String(cString: made), isDirectory: true)
        atexit { try? FileManager.default.removeItem(at: FuzzFiles.folder) }
    }

    /// Writes `bytes` to `name` inside the scratch folder (or a subfolder given in `name`).
    @discardableResult
    static func write(_ bytes: UnsafeRawBufferPointer, _ name: String) -> URL {
        let url = folder.appendingPathComponent(name)
        unlink(url.path)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else {
            fputs("skipdit-fuzz: cannot create \(url.path): \(String(cString: strerror(errno)))\n", stderr)
            exit(2)
        }
        var done = 0
        while done < bytes.count, let base = bytes.baseAddress {
            let n = Glibc.write(fd, base + done, bytes.count - done)
            guard n > 0 else {
                fputs("skipdit-fuzz: cannot write \(url.path)\n", stderr)
                exit(2)
            }
            done += n
        }
        close(fd)
        return url
    }

    @discardableResult
    static func write(_ bytes: [UInt8], _ name: String) -> URL {
        bytes.withUnsafeBytes { write($0, name) }
    }

    static func remove(_ name: String) { unlink(folder.appendingPathComponent(name).path) }

    static func makeFolder(_ name: String) -> URL {
        let url = folder.appendingPathComponent(name, isDirectory: true)
        mkdir(url.path, 0o700)
        return url
    }
}

/// Splits an input into a one-byte selector and the rest (for drivers that choose between variants).
func selectorAndRest(_ bytes: UnsafeRawBufferPointer) -> (UInt8, UnsafeRawBufferPointer) {
    guard let first = bytes.first else { return (0, bytes) }
    return (first, UnsafeRawBufferPointer(rebasing: bytes[1...]))
}
