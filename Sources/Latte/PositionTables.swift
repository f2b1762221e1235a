// Fixed sin-cos position tables, computed in float64 and rounded to float32 as the official
// numpy helpers do (diffusers get_2d_sincos_pos_embed, Latte get_1d_sincos_temp_embed).

import Foundation
import TensorCore

public enum PositionTables {
    /// 1-D table (positions.count, dim): [sin(pos·ω_k) | cos(pos·ω_k)], ω_k = 1/10000^(k/(dim/2)).
    static func oneDimensional(_ positions: [Double], dim: Int) -> [[Double]] {
        let half = dim / 2
        let omega = (0..<half).map { 1.0 / Foundation.pow(10000.0, Double($0) / Double(half)) }
        return positions.map { p in omega.map { Foundation.sin(p * $0) } + omega.map { Foundation.cos(p * $0) } }
    }

    /// 2-D table (rows·cols, dim) for a grid of latent patches, PixArt/diffusers style:
    /// coordinates fl32(fl32(i) / fl32(n/base)) / interp; channels [0, dim/2) encode the column,
    /// [dim/2, dim) the row.
    public static func spatial(rows: Int, cols: Int, dim: Int, baseSize: Int, interpolationScale: Double = 1) -> Tensor
    {
        precondition(dim % 4 == 0, "2-D position table needs dim divisible by 4, got \(dim)")
        func coordinates(_ n: Int) -> [Double] {
            let ratio = Float(Double(n) / Double(baseSize))
            return (0..<n).map { Double((Float($0) / ratio) / Float(interpolationScale)) }
        }
        let colTable = oneDimensional(coordinates(cols), dim: dim / 2)
        let rowTable = oneDimensional(coordinates(rows), dim: dim / 2)
        var out = Tensor(zeros: [rows * cols, dim])
        let p = out.mutablePointer()
        for r in 0..<rows {
            for c in 0..<cols {
                let row = p + (r * cols + c) * dim
                for k in 0..<(dim / 2) {
                    row[k] = Float(colTable[c][k])
                    row[dim / 2 + k] = Float(rowTable[r][k])
                }
            }
        }
        return out
    }

    /// Temporal table (frames, dim): [sin(f·ω_k) | cos(f·ω_k)], ω_k = 1/10000^(k/(dim/2)).
    public static func temporal(frames: Int, dim: Int) -> Tensor {
        let table = oneDimensional((0..<frames).map(Double.init), dim: dim)
        return Tensor(shape: [frames, dim], values: table.flatMap { $0.map(Float.init) })
    }
}
