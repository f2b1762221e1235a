// 2-D convolution (cross-correlation, zero padding, bias) of one image (C_in, H, W) →
// (C_out, H_out, W_out) as GEMMs over bands of output rows: each band's im2col (K = C_in·kh·kw
// rows × band·W_out columns) lives in a bounded scratch buffer, then
// out[:, band] = W (C_out, K) · col (+ bias). 1x1 stride-1 convolutions are a single GEMM.
// An optional nearest-neighbour upsampling of the input is fused into the im2col (the VAE's
// "nearest ×2 then 3x3 conv" without materialising the upsampled image).

/// Sizes of one 2-D convolution. The input is (inChannels, height, width), seen as
/// (height·upsample, width·upsample) after nearest upsampling.
public struct Conv2DGeometry: Sendable, Equatable {
    public var inChannels: Int
    public var outChannels: Int
    public var height: Int
    public var width: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var stride: Int
    public var padding: Int
    public var upsample: Int

    public init(
        inChannels: Int, outChannels: Int, height: Int, width: Int, kernelHeight: Int, kernelWidth: Int,
        stride: Int = 1, padding: Int = 0, upsample: Int = 1
    ) {
        precondition(
            inChannels > 0 && outChannels > 0 && height > 0 && width > 0 && kernelHeight > 0 && kernelWidth > 0
                && stride > 0 && padding >= 0 && upsample > 0, "Conv2DGeometry: invalid sizes")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.height = height
        self.width = width
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
        self.upsample = upsample
        precondition(outHeight > 0 && outWidth > 0, "Conv2DGeometry: kernel larger than the padded input")
    }

    /// Rows of the (upsampled) input seen by the kernel.
    public var sourceHeight: Int { height * upsample }
    /// Columns of the (upsampled) input seen by the kernel.
    public var sourceWidth: Int { width * upsample }
    public var outHeight: Int { (sourceHeight + 2 * padding - kernelHeight) / stride + 1 }
    public var outWidth: Int { (sourceWidth + 2 * padding - kernelWidth) / stride + 1 }
    /// GEMM depth C_in·kh·kw.
    public var depth: Int { inChannels * kernelHeight * kernelWidth }
}

/// Convolution kernels.
public enum Conv2D {
    /// Default bound on the im2col scratch buffer.
    public static let defaultScratchBytes = 8 << 20

    // MARK: Tensor level

    /// conv2d of x (C_in, H, W) or (N, C_in, H, W) with weight (C_out, C_in, kh, kw) and bias (C_out).
    public static func forward(
        _ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, upsample: Int = 1,
        engine: GEMMEngine
    ) -> Tensor {
        precondition(x.rank == 3 || x.rank == 4, "conv2d: x \(x.shape) must be (C, H, W) or (N, C, H, W)")
        precondition(weight.rank == 4, "conv2d: weight \(weight.shape) must be (C_out, C_in, kh, kw)")
        let batched = x.rank == 4
        let n = batched ? x.shape[0] : 1
        let c = x.shape[x.rank - 3], h = x.shape[x.rank - 2], w = x.shape[x.rank - 1]
        precondition(weight.shape[1] == c, "conv2d: weight \(weight.shape) does not take \(c) input channels")
        precondition(
            bias.map { $0.count == weight.shape[0] } ?? true,
            "conv2d: bias \(bias?.shape ?? []) must have \(weight.shape[0]) values")
        let g = Conv2DGeometry(
            inChannels: c, outChannels: weight.shape[0], height: h, width: w,
            kernelHeight: weight.shape[2], kernelWidth: weight.shape[3], stride: stride,
            padding: padding, upsample: upsample)
        let outShape = [g.outChannels, g.outHeight, g.outWidth]
        var y = Tensor(zeros: batched ? [n] + outShape : outShape)
        let yp = y.mutablePointer()
        let inSize = c * h * w, outSize = g.outChannels * g.outHeight * g.outWidth
        withExtendedLifetime((x, weight, bias)) {
            for i in 0..<n {
                forward(
                    x.pointer + i * inSize, geometry: g, weight: weight.pointer, bias: bias?.pointer,
                    into: yp + i * outSize, engine: engine)
            }
        }
        return y
    }

    // MARK: Pointer level

    /// y (C_out, H_out, W_out) = conv(x (C_in, H, W)) + bias, or y += … when `accumulate`.
    /// weight is (C_out, C_in, kh, kw) row-major. Scratch stays below `scratchBytes` (at least one
    /// output row's im2col).
    public static func forward(
        _ x: UnsafePointer<Float>, geometry g: Conv2DGeometry, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?,
        into y: UnsafeMutablePointer<Float>, accumulate: Bool = false, engine: GEMMEngine,
        scratchBytes: Int = defaultScratchBytes
    ) {
        let outPlane = g.outHeight * g.outWidth
        let beta: Float = accumulate || bias != nil ? 1 : 0
        if let bias {
            fillBias(bias, channels: g.outChannels, columns: 0..<outPlane, plane: outPlane, into: y, add: accumulate)
        }
        let pointwise = g.kernelHeight == 1 && g.kernelWidth == 1 && g.stride == 1 && g.padding == 0 && g.upsample == 1
        if pointwise {
            engine.gemm(
                transA: false, transB: false, m: g.outChannels, n: outPlane, k: g.inChannels, alpha: 1,
                a: weight, lda: g.inChannels, b: x, ldb: outPlane, beta: beta, c: y, ldc: outPlane)
            return
        }
        let k = g.depth, rowColumns = g.outWidth
        let bandRows = max(1, min(g.outHeight, scratchBytes / MemoryLayout<Float>.stride / max(k * rowColumns, 1)))
        let col = UnsafeMutablePointer<Float>.allocate(capacity: k * bandRows * rowColumns)
        defer { col.deallocate() }
        var oy0 = 0
        while oy0 < g.outHeight {
            let oy1 = min(g.outHeight, oy0 + bandRows)
            let n = (oy1 - oy0) * rowColumns
            im2col(x, g, rows: oy0..<oy1, into: col)
            engine.gemm(
                transA: false, transB: false, m: g.outChannels, n: n, k: k, alpha: 1,
                a: weight, lda: k, b: col, ldb: n, beta: beta, c: y + oy0 * rowColumns, ldc: outPlane)
            oy0 = oy1
        }
    }

    // MARK: Internals

    @inline(__always)
    static func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// y[c, columns] = bias[c] (or += when `add`).
    static func fillBias(
        _ bias: UnsafePointer<Float>, channels: Int, columns: Range<Int>, plane: Int,
        into y: UnsafeMutablePointer<Float>,
        add: Bool
    ) {
        Parallel.forRange(channels, grain: max(1, 16384 / max(columns.count, 1))) { range in
            for c in range {
                let row = y + c * plane + columns.lowerBound
                if add {
                    let b = bias[c]
                    for i in 0..<columns.count { row[i] += b }
                } else {
                    row.update(repeating: bias[c], count: columns.count)
                }
            }
        }
    }

    /// col[(c·kh + dy)·kw + dx, (oy − rows.lo)·W_out + ox] = src[c, oy·s − p + dy, ox·s − p + dx]
    /// (zero outside), where src is x nearest-upsampled by g.upsample.
    static func im2col(
        _ x: UnsafePointer<Float>, _ g: Conv2DGeometry, rows: Range<Int>, into col: UnsafeMutablePointer<Float>
    ) {
        let kh = g.kernelHeight, kw = g.kernelWidth, s = g.stride, p = g.padding, u = g.upsample
        let wOut = g.outWidth, n = rows.count * wOut
        let srcH = g.sourceHeight, srcW = g.sourceWidth
        Parallel.forRange(g.depth, grain: max(1, 8192 / max(n, 1))) { range in
            for kr in range {
                let c = kr / (kh * kw), dy = (kr / kw) % kh, dx = kr % kw
                let plane = x + c * g.height * g.width
                // Output columns whose source column is inside the image: lo ..< hi.
                let lo = min(wOut, max(0, floorDiv(p - dx + s - 1, s)))
                let hi = max(lo, min(wOut, floorDiv(srcW - 1 + p - dx, s) + 1))
                for (bandRow, oy) in rows.enumerated() {
                    let dst = col + kr * n + bandRow * wOut
                    let iy = oy * s - p + dy
                    if iy < 0 || iy >= srcH {
                        dst.update(repeating: 0, count: wOut)
                        continue
                    }
                    let srcRow = plane + (iy / u) * g.width
                    if lo > 0 { dst.update(repeating: 0, count: lo) }
                    if hi < wOut { (dst + hi).update(repeating: 0, count: wOut - hi) }
                    let ix0 = lo * s - p + dx
                    if s == 1 && u == 1 {
                        (dst + lo).update(from: srcRow + ix0, count: hi - lo)
                    } else if u == 1 {
                        for ox in lo..<hi { dst[ox] = srcRow[ix0 + (ox - lo) * s] }
                    } else {
                        for ox in lo..<hi { dst[ox] = srcRow[(ix0 + (ox - lo) * s) / u] }
                    }
                }
            }
        }
    }
}
