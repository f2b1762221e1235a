// conv2d (stride 1/2, padding 0/1, 1x1 and 3x3, fused upsampling, bands that don't divide H,
// accumulate), the temporal (3,1,1) conv and nearest ×2 upsampling vs Double loops.

import TensorCore
import XCTest

final class ConvolutionTests: XCTestCase {
    /// Double conv2d of one image x (C, H, W), seen nearest-upsampled by u.
    func reference(
        _ x: [Double], c: Int, h: Int, w: Int, weight: [Double], co: Int, kh: Int, kw: Int, bias: [Double]?,
        stride s: Int, padding p: Int, upsample u: Int = 1
    ) -> (values: [Double], ho: Int, wo: Int) {
        let sh = h * u, sw = w * u
        let ho = (sh + 2 * p - kh) / s + 1, wo = (sw + 2 * p - kw) / s + 1
        var out = [Double](repeating: 0, count: co * ho * wo)
        for o in 0..<co {
            for oy in 0..<ho {
                for ox in 0..<wo {
                    var acc = bias?[o] ?? 0
                    for ci in 0..<c {
                        for dy in 0..<kh {
                            for dx in 0..<kw {
                                let iy = oy * s - p + dy, ix = ox * s - p + dx
                                guard iy >= 0, iy < sh, ix >= 0, ix < sw else { continue }
                                acc += weight[((o * c + ci) * kh + dy) * kw + dx] * x[(ci * h + iy / u) * w + ix / u]
                            }
                        }
                    }
                    out[(o * ho + oy) * wo + ox] = acc
                }
            }
        }
        return (out, ho, wo)
    }

    struct Case {
        var c, co, h, w, kh, kw, stride, padding: Int
        var upsample = 1
        var scratchRows: Int? = nil  // force bands of this many output rows
    }

    func testConv2D() throws {
        let engine = try OpenBLASEngine()
        var rng = SeededRandom(seed: 50)
        let cases = [
            Case(c: 3, co: 5, h: 7, w: 9, kh: 3, kw: 3, stride: 1, padding: 1),
            Case(c: 3, co: 5, h: 7, w: 9, kh: 3, kw: 3, stride: 1, padding: 1, scratchRows: 3),  // bands 3, 3, 1
            Case(c: 4, co: 6, h: 8, w: 11, kh: 3, kw: 3, stride: 2, padding: 1, scratchRows: 3),
            Case(c: 2, co: 3, h: 6, w: 5, kh: 3, kw: 3, stride: 1, padding: 0),
            Case(c: 5, co: 4, h: 9, w: 10, kh: 3, kw: 3, stride: 2, padding: 0, scratchRows: 2),
            Case(c: 6, co: 7, h: 5, w: 13, kh: 1, kw: 1, stride: 1, padding: 0),  // pure GEMM
            Case(c: 6, co: 7, h: 5, w: 13, kh: 1, kw: 1, stride: 2, padding: 0),
            Case(c: 3, co: 2, h: 1, w: 1, kh: 3, kw: 3, stride: 1, padding: 1),  // kernel wider than image
            Case(c: 2, co: 3, h: 4, w: 3, kh: 2, kw: 3, stride: 1, padding: 1),
            Case(c: 3, co: 4, h: 5, w: 6, kh: 3, kw: 3, stride: 1, padding: 1, upsample: 2, scratchRows: 4),
            Case(c: 33, co: 17, h: 19, w: 23, kh: 3, kw: 3, stride: 1, padding: 1, scratchRows: 5),
        ]
        for t in cases {
            let x = rng.tensor([t.c, t.h, t.w]), weight = rng.tensor([t.co, t.c, t.kh, t.kw], scale: 0.3)
            let bias = rng.tensor([t.co])
            let ref = reference(
                x.doubles, c: t.c, h: t.h, w: t.w, weight: weight.doubles, co: t.co, kh: t.kh, kw: t.kw,
                bias: bias.doubles, stride: t.stride, padding: t.padding, upsample: t.upsample)
            let g = Conv2DGeometry(
                inChannels: t.c, outChannels: t.co, height: t.h, width: t.w, kernelHeight: t.kh,
                kernelWidth: t.kw, stride: t.stride, padding: t.padding, upsample: t.upsample)
            XCTAssertEqual([g.outHeight, g.outWidth], [ref.ho, ref.wo])
            let scratch = t.scratchRows.map { $0 * g.depth * g.outWidth * 4 } ?? Conv2D.defaultScratchBytes
            var y = Tensor(zeros: [t.co, g.outHeight, g.outWidth])
            Conv2D.forward(
                x.pointer, geometry: g, weight: weight.pointer, bias: bias.pointer, into: y.mutablePointer(),
                engine: engine, scratchBytes: scratch)
            assertClose(y.scalars, ref.values, "conv \(t)")
            // Accumulating without bias on top of the biased result adds the bias-free conv.
            Conv2D.forward(
                x.pointer, geometry: g, weight: weight.pointer, bias: nil, into: y.mutablePointer(),
                accumulate: true, engine: engine, scratchBytes: scratch)
            let b = bias.doubles, plane = g.outHeight * g.outWidth
            assertClose(y.scalars, ref.values.enumerated().map { 2 * $1 - b[$0 / plane] }, "accumulate \(t)")
        }
    }

    func testConv2DTensorBatched() throws {
        let engine = try OpenBLASEngine()
        var rng = SeededRandom(seed: 51)
        let x = rng.tensor([2, 3, 6, 7]), weight = rng.tensor([4, 3, 3, 3])
        let y = Conv2D.forward(x, weight: weight, bias: nil, stride: 1, padding: 1, engine: engine)
        XCTAssertEqual(y.shape, [2, 4, 6, 7])
        let xv = x.doubles
        for n in 0..<2 {
            let ref = reference(
                Array(xv[(n * 126)..<((n + 1) * 126)]), c: 3, h: 6, w: 7, weight: weight.doubles, co: 4,
                kh: 3, kw: 3, bias: nil, stride: 1, padding: 1)
            assertClose(Array(y.scalars[(n * 168)..<((n + 1) * 168)]), ref.values, "batched \(n)")
        }
    }

    func testTemporalConv() throws {
        let engine = try OpenBLASEngine()
        var rng = SeededRandom(seed: 52)
        for (f, ci, co, s) in [(4, 3, 5, 7), (1, 2, 3, 5), (2, 6, 6, 9)] {
            let x = rng.tensor([f, ci, 1, s]), weight = rng.tensor([co, ci, 3, 1, 1]), bias = rng.tensor([co])
            let xv = x.doubles, wv = weight.doubles, bv = bias.doubles
            var want = [Double](repeating: 0, count: f * co * s)
            for fo in 0..<f {
                for o in 0..<co {
                    for p in 0..<s {
                        var acc = bv[o]
                        for k in 0..<3 {
                            let fi = fo + k - 1
                            guard fi >= 0, fi < f else { continue }
                            for c in 0..<ci { acc += wv[(o * ci + c) * 3 + k] * xv[(fi * ci + c) * s + p] }
                        }
                        want[(fo * co + o) * s + p] = acc
                    }
                }
            }
            let y = TemporalConv.forward(x, weight: weight, bias: bias, engine: engine)
            XCTAssertEqual(y.shape, [f, co, 1, s])
            assertClose(y.scalars, want, "temporal f\(f)")
        }
    }

    func testNearest2x() {
        var rng = SeededRandom(seed: 53)
        for (c, h, w) in [(1, 1, 1), (3, 5, 7), (2, 4, 19)] {
            let x = rng.tensor([c, h, w])
            let y = Resample.nearest2x(x)
            XCTAssertEqual(y.shape, [c, 2 * h, 2 * w])
            let xv = x.scalars, yv = y.scalars
            var want = [Float](repeating: 0, count: yv.count)
            for ch in 0..<c {
                for oy in 0..<(2 * h) {
                    for ox in 0..<(2 * w) {
                        want[(ch * 2 * h + oy) * 2 * w + ox] = xv[(ch * h + oy / 2) * w + ox / 2]
                    }
                }
            }
            XCTAssertEqual(yv, want)
        }
    }
}
