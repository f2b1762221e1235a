// The decoders' internal activation layout: one frame, channel-last, with a one-pixel zero border
// ((H+2) x (W+2) x C) and one guard pixel before and after. With that border a 3x3 convolution is
// nine GEMMs whose inputs are the same buffer shifted by a tap offset (no im2col copy), and the
// attention's token matrix is the interior read row by row. Buffers come from a `BufferPool`.

import Foundation
import TensorCore

/// Reusable float buffers from `ScratchMemory`, so a decode does not map and fault in fresh pages for
/// every layer of every frame. Thread-safe.
final class BufferPool: @unchecked Sendable {
    final class Buffer {
        let pointer: UnsafeMutablePointer<Float>
        let capacity: Int
        init(capacity: Int) {
            pointer = ScratchMemory.allocateFloats(max(capacity, 16))
            self.capacity = capacity
        }
        deinit { ScratchMemory.release(pointer) }
    }

    private let lock = NSLock()
    private var idle: [Buffer] = []

    /// A buffer of at least `count` floats (contents undefined): the smallest idle one that fits
    /// without wasting more than half of it. When none does, idle buffers too small for this
    /// request are freed first (they are left over from a finer level), so idle memory stays bounded.
    func take(count: Int) -> Buffer {
        lock.lock()
        defer { lock.unlock() }
        var best: Int?
        for (i, b) in idle.enumerated() where b.capacity >= count && b.capacity <= 2 * count {
            if let j = best, idle[j].capacity <= b.capacity { continue }
            best = i
        }
        if let best {
            let buffer = idle.remove(at: best)
            ScratchMemory.reuse(UnsafeMutableRawPointer(buffer.pointer), bytes: buffer.capacity * 4)
            return buffer
        }
        idle.removeAll { $0.capacity < count }
        return Buffer(capacity: count)
    }

    func give(_ b: Buffer) {
        lock.lock()
        idle.append(b)
        lock.unlock()
    }

    /// Frees every idle buffer (returns the memory to the system).
    func trim() {
        lock.lock()
        idle.removeAll()
        lock.unlock()
    }

    /// Floats held by idle buffers.
    var idleCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return idle.reduce(0) { $0 + $1.capacity }
    }
}

/// One frame of activations: (H+2, W+2, C) channel-last with a zero border.
final class FeatureMap {
    let height: Int
    let width: Int
    let channels: Int
    private let buffer: BufferPool.Buffer
    /// Where the map's memory comes from; layers take their scratch from it too.
    let pool: BufferPool
    /// Padded pixel (0, 0), the top-left border pixel; a guard pixel precedes it.
    let origin: UnsafeMutablePointer<Float>

    /// A map from `pool` with an undefined interior and a zero border.
    init(height: Int, width: Int, channels: Int, pool: BufferPool) {
        precondition(height > 0 && width > 0 && channels > 0, "empty feature map \(height)x\(width)x\(channels)")
        self.height = height
        self.width = width
        self.channels = channels
        self.pool = pool
        buffer = pool.take(count: ((height + 2) * (width + 2) + 2) * channels)
        origin = buffer.pointer + channels
        zeroBorder()
    }

    deinit { pool.give(buffer) }

    /// Pixels per padded row (W + 2).
    var rowPixels: Int { width + 2 }
    /// Pixels of the padded frame, (H+2)(W+2).
    var paddedPixels: Int { (height + 2) * (width + 2) }

    /// Interior pixel (y, x), 0-based.
    @inline(__always)
    func pixel(_ y: Int, _ x: Int) -> UnsafeMutablePointer<Float> {
        origin + ((y + 1) * rowPixels + x + 1) * channels
    }

    /// Zeroes the border and the guard pixels.
    func zeroBorder() {
        let c = channels, rp = rowPixels
        (origin - c).update(repeating: 0, count: (rp + 1) * c)  // guard + top row
        (origin + (height + 1) * rp * c).update(repeating: 0, count: (rp + 1) * c)  // bottom row + guard
        zeroBorderColumns(rows: 0..<height)
    }

    /// Zeroes the left and right border pixels of interior rows `rows`.
    func zeroBorderColumns(rows: Range<Int>) {
        let c = channels, rp = rowPixels
        for y in rows {
            let row = origin + (y + 1) * rp * c
            row.update(repeating: 0, count: c)
            (row + (rp - 1) * c).update(repeating: 0, count: c)
        }
    }

    /// Sets the interior to zero.
    func zeroInterior() {
        let c = channels, w = width
        Parallel.forRange(height, grain: max(1, 16384 / max(w * c, 1))) { rows in
            for y in rows { self.pixel(y, 0).update(repeating: 0, count: w * c) }
        }
    }

    /// A new map from the same pool with the same geometry and `channels` channels.
    func sibling(channels: Int? = nil) -> FeatureMap {
        FeatureMap(height: height, width: width, channels: channels ?? self.channels, pool: pool)
    }

    /// A new map from the same pool.
    func make(height: Int, width: Int, channels: Int) -> FeatureMap {
        FeatureMap(height: height, width: width, channels: channels, pool: pool)
    }

    /// Copies a (C, H, W) channel-first frame into the interior.
    func load(channelFirst src: UnsafePointer<Float>) {
        let c = channels, h = height, w = width
        Parallel.forRange(h) { rows in
            for y in rows {
                for x in 0..<w {
                    let p = self.pixel(y, x)
                    for ch in 0..<c { p[ch] = src[(ch * h + y) * w + x] }
                }
            }
        }
    }

    /// The interior as a (C, H, W) channel-first tensor.
    func channelFirst() -> Tensor {
        var t = Tensor(zeros: [channels, height, width])
        let c = channels, h = height, w = width
        let dst = t.mutablePointer()
        Parallel.forRange(h) { rows in
            for y in rows {
                for x in 0..<w {
                    let p = self.pixel(y, x)
                    for ch in 0..<c { dst[(ch * h + y) * w + x] = p[ch] }
                }
            }
        }
        return t
    }
}

extension FeatureMap {
    /// x = SiLU(x) on the interior (TensorCore's kernel, row by row).
    func applySiLU() {
        for y in 0..<height { Activation.silu(pixel(y, 0), count: width * channels, into: pixel(y, 0)) }
    }
}

extension FeatureMap {
    /// self += other on the interior (same geometry).
    func add(_ other: FeatureMap) {
        precondition(other.height == height && other.width == width && other.channels == channels, "add: shapes")
        let n = width * channels
        Parallel.forRange(height, grain: max(1, 8192 / max(n, 1))) { rows in
            for y in rows { ChannelKernels.add(other.pixel(y, 0), into: self.pixel(y, 0), count: n) }
        }
    }
}
