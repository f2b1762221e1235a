// FileOps: the POSIX file operations the spool is built on (atomic write, exclusive publish, rename
// without replace, stat, readdir, directory fsync). Every C call of the spool's file handling lives here.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `lstat` says about a directory entry.
struct FileInfo: Equatable {
    enum Kind { case regular, directory, other }
    var kind: Kind
    var size: Int64
    /// Modification time, seconds since 1970 with nanoseconds.
    var modified: Double
}

/// The outcome of a rename that must not replace its destination.
enum RenameOutcome: Equatable {
    case renamed
    /// The destination exists (file or non-empty directory); nothing was moved.
    case destinationExists
    /// The source is gone: another process moved it first.
    case sourceMissing
}

enum FileOps {
    // MARK: writing

    /// Writes `data` to `url` atomically: a temp file in the same directory, fsync, rename, fsync dir.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        let temp = try writeTemp(data, near: url)
        if rename(temp.path, url.path) != 0 {
            let code = errno
            unlink(temp.path)
            throw SpoolError.system(operation: "rename to \(url.lastPathComponent)", path: temp.path, errno: code)
        }
        try fsyncDirectory(url.deletingLastPathComponent())
    }

    /// Creates `url` with `data` only if it does not exist (link(2) of a complete temp file, so the file
    /// never appears empty or partial). Returns false when `url` already exists. Atomic on NFS too.
    static func publishExclusively(_ data: Data, at url: URL) throws -> Bool {
        let temp = try writeTemp(data, near: url)
        defer { unlink(temp.path) }
        if link(temp.path, url.path) != 0 {
            let code = errno
            if code == EEXIST { return false }
            throw SpoolError.system(operation: "link", path: url.path, errno: code)
        }
        try fsyncDirectory(url.deletingLastPathComponent())
        return true
    }

    /// The pid in the name of a temp file of `writeAtomically` or `publishExclusively`
    /// (`.<name>.<pid>.<random>.tmp`), or nil for any other name. A writer killed between creating the
    /// temp file and its rename or link leaves one behind.
    static func tempFileWriter(_ name: String) -> Int32? {
        guard name.hasPrefix("."), name.hasSuffix(".tmp") else { return nil }
        let parts = name.dropFirst().dropLast(4).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 3, !parts[0].isEmpty, UInt32(parts[parts.count - 1]) != nil,
            let pid = Int32(parts[parts.count - 2]), pid > 0
        else { return nil }
        return pid
    }

    /// Writes a temp file `.<name>.<pid>.<random>.tmp` next to `url`, fsynced; returns its URL.
    private static func writeTemp(_ data: Data, near url: URL) throws -> URL {
        let suffix = "\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(suffix)")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SpoolError.system(operation: "create", path: temp.path, errno: errno) }
        var failure: Int32 = 0
        var operation = ""
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count, let base = buffer.baseAddress {
                let n = write(fd, base + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    operation = "write"
                    return
                }
                offset += n
            }
        }
        if failure == 0, fsync(fd) != 0 {
            failure = errno
            operation = "fsync"
        }
        if close(fd) != 0, failure == 0 {
            failure = errno
            operation = "close"
        }
        if failure != 0 {
            unlink(temp.path)
            throw SpoolError.system(operation: operation, path: temp.path, errno: failure)
        }
        return temp
    }

    /// Flushes a directory's entries (after a rename or link in it).
    static func fsyncDirectory(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SpoolError.system(operation: "open directory", path: url.path, errno: errno) }
        defer { close(fd) }
        // Some file systems (and NFS exports) refuse fsync on a directory; the rename is still done.
        if fsync(fd) != 0, errno != EINVAL, errno != EROFS {
            throw SpoolError.system(operation: "fsync directory", path: url.path, errno: errno)
        }
    }

    // MARK: renaming

    private typealias RenameAt2 =
        @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

    /// glibc's renameat2, looked up at run time (the Glibc module does not export it).
    private static let renameat2Function: RenameAt2? = {
        #if os(Linux)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
            return unsafeBitCast(symbol, to: RenameAt2.self)
        #else
            return nil
        #endif
    }()

    /// Renames `source` to `destination` unless the destination exists. Uses renameat2(RENAME_NOREPLACE)
    /// where the file system supports it; otherwise rename(2), which cannot replace the non-empty
    /// directories and fresh private paths the spool renames onto.
    static func renameNoReplace(_ source: URL, to destination: URL) throws -> RenameOutcome {
        var result: Int32 = -1
        var code: Int32 = EINVAL
        if let renameat2 = renameat2Function {
            result = renameat2(AT_FDCWD, source.path, AT_FDCWD, destination.path, 1 /* RENAME_NOREPLACE */)
            code = errno
        }
        if result != 0, code == EINVAL || code == ENOSYS {
            if lstatInfo(destination) != nil { return .destinationExists }
            result = rename(source.path, destination.path)
            code = errno
        }
        if result == 0 {
            try fsyncDirectory(destination.deletingLastPathComponent())
            if source.deletingLastPathComponent().path != destination.deletingLastPathComponent().path {
                try fsyncDirectory(source.deletingLastPathComponent())
            }
            return .renamed
        }
        switch code {
        case EEXIST, ENOTEMPTY: return .destinationExists
        case ENOENT where lstatInfo(source) == nil: return .sourceMissing
        default:
            throw SpoolError.system(
                operation: "rename to \(destination.path)", path: source.path, errno: code)
        }
    }

    // MARK: inspecting

    /// lstat(2) of `url`, or nil when it does not exist.
    static func lstatInfo(_ url: URL) -> FileInfo? {
        var st = stat()
        guard lstat(url.path, &st) == 0 else { return nil }
        let type = st.st_mode & S_IFMT
        let kind: FileInfo.Kind = type == S_IFREG ? .regular : type == S_IFDIR ? .directory : .other
        #if os(Linux)
            let modified = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) * 1e-9
        #else
            let modified = Double(st.st_mtimespec.tv_sec) + Double(st.st_mtimespec.tv_nsec) * 1e-9
        #endif
        return FileInfo(kind: kind, size: Int64(st.st_size), modified: modified)
    }

    /// The names in a directory (without "." and ".."), sorted.
    static func list(_ url: URL) throws -> [String] {
        guard let dir = opendir(url.path) else {
            throw SpoolError.system(operation: "open directory", path: url.path, errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Creates a directory (and its parents); an existing directory is fine.
    static func makeDirectory(_ url: URL) throws {
        if lstatInfo(url)?.kind == .directory { return }
        let parent = url.deletingLastPathComponent()
        if parent.path != url.path, lstatInfo(parent) == nil { try makeDirectory(parent) }
        if mkdir(url.path, 0o755) != 0, errno != EEXIST {
            throw SpoolError.system(operation: "mkdir", path: url.path, errno: errno)
        }
    }

    /// Reads a whole file, or nil when it does not exist.
    static func readFile(_ url: URL) throws -> Data? {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw SpoolError.system(operation: "open", path: url.path, errno: errno)
        }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SpoolError.system(operation: "read", path: url.path, errno: errno)
            }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return data
    }

    /// Removes a file; a missing file is fine.
    static func remove(_ url: URL) throws {
        if unlink(url.path) != 0, errno != ENOENT {
            throw SpoolError.system(operation: "unlink", path: url.path, errno: errno)
        }
    }

    /// Removes an empty directory; a missing one is fine.
    static func removeEmptyDirectory(_ url: URL) throws {
        if rmdir(url.path) != 0, errno != ENOENT {
            throw SpoolError.system(operation: "rmdir", path: url.path, errno: errno)
        }
    }
}
