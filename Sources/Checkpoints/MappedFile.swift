// A read-only memory map of a whole file. Tensors borrow pointers into it and keep it alive; every
// access goes through bounds-checked helpers so a truncated or hostile file cannot read outside it.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file mapped read-only into memory; unmapped when the last reference goes away.
public final class MappedFile: @unchecked Sendable {
    /// The file's path (for errors).
    public let path: String
    /// The mapped bytes (empty for an empty file).
    public let bytes: UnsafeRawBufferPointer

    /// Maps `url` read-only.
    public init(_ url: URL) throws(CheckpointError) {
        path = url.path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .io(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw .io(path: path, reason: "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .io(path: path, reason: "not a regular file") }
        let size = Int(st.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw .io(path: path, reason: "cannot mmap \(size) bytes: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }

    /// File size in bytes.
    public var count: Int { bytes.count }

    /// True if `offset..<offset+length` lies inside the file (overflow-safe).
    func contains(offset: Int, length: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= count && length <= count - offset
    }

    /// A little-endian unsigned integer of `width` bytes at `offset`, or nil if out of range.
    func uint(at offset: Int, width: Int) -> UInt64? {
        guard contains(offset: offset, length: width) else { return nil }
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return v
    }

    /// The bytes at `offset..<offset+length`, or nil if out of range.
    func slice(offset: Int, length: Int) -> UnsafeRawBufferPointer? {
        guard contains(offset: offset, length: length) else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
    }
}
