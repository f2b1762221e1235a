// VideoQuality: full-reference quality of one video against another (PSNR, SSIM) on packed uint8 RGB
// frames (F, H, W, 3); `bench cache` compares cached renders with uncached ones with it.

import Foundation

/// Full-reference video quality on packed uint8 RGB frames (F, H, W, 3).
public enum VideoQuality {
    /// PSNR in dB over every sample of the two videos (peak 255); infinity when they are identical.
    public static func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
        precondition(a.count == b.count && !a.isEmpty, "videos differ in size")
        var sum = 0.0
        for i in a.indices {
            let d = Double(a[i]) - Double(b[i])
            sum += d * d
        }
        let mse = sum / Double(a.count)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    /// SSIM (Wang et al. 2004): 11x11 Gaussian window with sigma 1.5, K1 0.01, K2 0.03, L 255, over the
    /// window positions that fit inside the frame, per channel; mean over channels and frames.
    public static func ssim(_ a: [UInt8], _ b: [UInt8], frames: Int, height: Int, width: Int) -> Double {
        precondition(
            a.count == frames * height * width * 3 && b.count == a.count,
            "videos are not \(frames)x\(height)x\(width)x3")
        let r = 5
        precondition(height > 2 * r && width > 2 * r, "frames must be larger than the 11x11 window")
        let g: [Double] = {
            let w = (-r...r).map { exp(-Double($0 * $0) / (2 * 1.5 * 1.5)) }
            let s = w.reduce(0, +)
            return w.map { $0 / s }
        }()
        let c1: Double = (0.01 * 255) * (0.01 * 255), c2: Double = (0.03 * 255) * (0.03 * 255)
        let (oh, ow) = (height - 2 * r, width - 2 * r)
        var total = 0.0
        // Separable Gaussian filtering ("valid" region) of x, y, x², y², xy for one channel plane.
        var planes = [[Double]](repeating: [Double](repeating: 0, count: height * width), count: 5)
        var rows = [[Double]](repeating: [Double](repeating: 0, count: height * ow), count: 5)
        for f in 0..<frames {
            for ch in 0..<3 {
                for p in 0..<(height * width) {
                    let x = Double(a[(f * height * width + p) * 3 + ch]),
                        y = Double(b[(f * height * width + p) * 3 + ch])
                    planes[0][p] = x
                    planes[1][p] = y
                    planes[2][p] = x * x
                    planes[3][p] = y * y
                    planes[4][p] = x * y
                }
                for k in 0..<5 {
                    for i in 0..<height {
                        for j in 0..<ow {
                            var s = 0.0
                            for t in 0...(2 * r) { s += g[t] * planes[k][i * width + j + t] }
                            rows[k][i * ow + j] = s
                        }
                    }
                }
                var sum = 0.0
                for i in 0..<oh {
                    for j in 0..<ow {
                        var m = [Double](repeating: 0, count: 5)
                        for k in 0..<5 {
                            var s = 0.0
                            for t in 0...(2 * r) { s += g[t] * rows[k][(i + t) * ow + j] }
                            m[k] = s
                        }
                        let (mx, my) = (m[0], m[1])
                        let (vx, vy, cxy) = (m[2] - mx * mx, m[3] - my * my, m[4] - mx * my)
                        sum += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
                    }
                }
                total += sum / Double(oh * ow)
            }
        }
        return total / Double(frames * 3)
    }
}
