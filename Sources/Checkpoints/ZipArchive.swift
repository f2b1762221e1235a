// The central directory of a zip archive over a mapped file, as written by torch.save: the
// end-of-central-directory record (and its zip64 form, needed above 4 GiB), central file headers
// and local headers. Only the entry table is read; entry data is used in place (stored entries).

import Foundation

/// One entry of a zip archive.
struct ZipEntry {
    let name: String
    /// 0 = stored, 8 = deflated, …
    let method: Int
    let compressedSize: Int
    let uncompressedSize: Int
    /// Byte offset of the entry's data in the file (after the local header).
    let dataOffset: Int
}

/// The entries of a zip archive; every offset and size is checked against the file.
struct ZipArchive {
    let file: MappedFile
    let entries: [String: ZipEntry]

    static let localSignature: UInt32 = 0x0403_4b50
    private static let centralSignature: UInt64 = 0x0201_4b50
    private static let endSignature: UInt64 = 0x0605_4b50
    private static let zip64LocatorSignature: UInt64 = 0x0706_4b50
    private static let zip64EndSignature: UInt64 = 0x0606_4b50

    init(_ file: MappedFile) throws(CheckpointError) {
        self.file = file
        let path = file.path
        func bad(_ r: String) -> CheckpointError { .badZip(path: path, reason: r) }
        func u(_ o: Int, _ w: Int) throws(CheckpointError) -> Int {
            guard let v = file.uint(at: o, width: w) else { throw bad("read past the end of the file at byte \(o)") }
            guard v <= UInt64(Int.max) else { throw bad("value out of range at byte \(o)") }
            return Int(v)
        }

        // End of central directory: 22 bytes plus a comment of up to 65535 bytes at the end of the file.
        guard file.count >= 22 else { throw bad("file of \(file.count) bytes is too short") }
        var eocd = -1
        var o = file.count - 22
        let lowest = max(0, file.count - 22 - 65535)
        while o >= lowest {
            if file.uint(at: o, width: 4) == Self.endSignature { eocd = o; break }
            o -= 1
        }
        guard eocd >= 0 else { throw bad("no end-of-central-directory record (truncated?)") }
        var entryCount = try u(eocd + 10, 2)
        var cdSize = try u(eocd + 12, 4)
        var cdOffset = try u(eocd + 16, 4)
        if entryCount == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            let locator = eocd - 20
            guard locator >= 0, file.uint(at: locator, width: 4) == Self.zip64LocatorSignature else {
                throw bad("zip64 end-of-central-directory locator missing")
            }
            let end64 = try u(locator + 8, 8)
            guard file.uint(at: end64, width: 4) == Self.zip64EndSignature else {
                throw bad("zip64 end-of-central-directory record missing at byte \(end64)")
            }
            entryCount = try u(end64 + 32, 8)
            cdSize = try u(end64 + 40, 8)
            cdOffset = try u(end64 + 48, 8)
        }
        guard file.contains(offset: cdOffset, length: cdSize) else {
            throw bad("central directory at byte \(cdOffset) (\(cdSize) bytes) lies outside the file")
        }
        guard entryCount <= cdSize / 46 else { throw bad("\(entryCount) entries cannot fit in \(cdSize) bytes") }

        var entries: [String: ZipEntry] = [:]
        var p = cdOffset
        let cdEnd = cdOffset + cdSize
        for _ in 0..<entryCount {
            guard p + 46 <= cdEnd, file.uint(at: p, width: 4) == Self.centralSignature else {
                throw bad("bad central directory entry at byte \(p)")
            }
            let flags = try u(p + 8, 2)
            let method = try u(p + 10, 2)
            var compressed = try u(p + 20, 4)
            var uncompressed = try u(p + 24, 4)
            let nameLength = try u(p + 28, 2)
            let extraLength = try u(p + 30, 2)
            let commentLength = try u(p + 32, 2)
            var localOffset = try u(p + 42, 4)
            let recordEnd = p + 46 + nameLength + extraLength + commentLength
            guard recordEnd <= cdEnd, let nameBytes = file.slice(offset: p + 46, length: nameLength) else {
                throw bad("central directory entry at byte \(p) overruns the directory")
            }
            guard flags & 1 == 0 else { throw bad("encrypted entries are not supported") }
            let name = String(decoding: nameBytes, as: UTF8.self)
            // Zip64 extended information: the 64-bit values of the fields that read 0xFFFFFFFF, in order.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = try u(e, 2)
                let size = try u(e + 2, 2)
                guard e + 4 + size <= extraEnd else { throw bad("extra field of '\(name)' overruns its entry") }
                if id == 0x0001 {
                    var q = e + 4
                    func next() throws(CheckpointError) -> Int {
                        guard q + 8 <= e + 4 + size else { throw bad("short zip64 extra field in '\(name)'") }
                        defer { q += 8 }
                        return try u(q, 8)
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try next() }
                    if compressed == 0xFFFF_FFFF { compressed = try next() }
                    if localOffset == 0xFFFF_FFFF { localOffset = try next() }
                }
                e += 4 + size
            }
            // Local header: its own name/extra lengths decide where the data starts.
            guard file.uint(at: localOffset, width: 4) == UInt64(Self.localSignature) else {
                throw bad("no local header for '\(name)' at byte \(localOffset)")
            }
            let dataOffset = localOffset + 30 + (try u(localOffset + 26, 2)) + (try u(localOffset + 28, 2))
            guard file.contains(offset: dataOffset, length: compressed) else {
                throw bad("data of '\(name)' (\(compressed) bytes at byte \(dataOffset)) lies outside the file")
            }
            guard entries[name] == nil else { throw bad("entry '\(name)' occurs twice") }
            entries[name] = ZipEntry(
                name: name, method: method, compressedSize: compressed, uncompressedSize: uncompressed,
                dataOffset: dataOffset)
            p = recordEnd
        }
        self.entries = entries
    }

    /// The bytes of a stored (uncompressed) entry.
    func storedData(_ entry: ZipEntry) throws(CheckpointError) -> UnsafeRawBufferPointer {
        guard entry.method == 0, entry.compressedSize == entry.uncompressedSize else {
            throw .badZip(
                path: file.path,
                reason:
                    "entry '\(entry.name)' is compressed (method \(entry.method)); torch.save stores entries uncompressed"
            )
        }
        guard let s = file.slice(offset: entry.dataOffset, length: entry.compressedSize) else {
            throw .badZip(path: file.path, reason: "entry '\(entry.name)' lies outside the file")
        }
        return s
    }
}
