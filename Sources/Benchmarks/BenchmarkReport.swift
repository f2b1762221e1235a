// Printing benchmark results: an aligned table for people, JSON lines for machines.

import Foundation

/// Formats `BenchmarkResult`s.
public enum BenchmarkReport {
    /// One JSON object on one line (keys sorted, so lines diff cleanly).
    public static func jsonLine(_ r: BenchmarkResult) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(r), let s = String(data: data, encoding: .utf8) else {
            return "{\"name\":\"\(r.name)\",\"error\":\"encoding failed\"}"
        }
        return s
    }

    /// Parses one line written by `jsonLine`.
    public static func parse(jsonLine line: String) throws -> BenchmarkResult {
        try JSONDecoder().decode(BenchmarkResult.self, from: Data(line.utf8))
    }

    /// An aligned table: one row per result, with best and median time and GFLOP/s (and the
    /// fraction of the GEMM peak, and the kernel, when a result has one).
    public static func table(_ results: [BenchmarkResult]) -> String {
        let withPeak = results.contains { $0.ofPeak != nil }
        let withKernel = results.contains { $0.implementation != nil }
        let header =
            [
                "benchmark", "backend", "precision", "shape", "best s", "median s", "best GFLOP/s",
                "median GFLOP/s", "runs",
            ] + (withPeak ? ["of peak"] : []) + (withKernel ? ["kernel"] : []) + ["library"]
        let rows = results.map { r -> [String] in
            var cells: [String] = [
                r.name, r.backend, r.precision, r.shape, fixed(r.seconds, 4), fixed(r.medianSeconds, 4),
                r.gflops.map { fixed($0, 1) } ?? "-", r.medianGflops.map { fixed($0, 1) } ?? "-", "\(r.runs)",
            ]
            if withPeak { cells.append(r.ofPeak.map { fixed($0, 2) } ?? "-") }
            if withKernel { cells.append(r.implementation ?? "-") }
            cells.append(r.library ?? "-")
            return cells
        }
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        let numeric: Set<Int> = withPeak ? [4, 5, 6, 7, 8, 9] : [4, 5, 6, 7, 8]
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, s in
                let pad = String(repeating: " ", count: widths[c] - s.count)
                return numeric.contains(c) ? pad + s : s + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        var out = [line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        out += rows.map(line)
        if let first = results.first {
            out.append("cpu: \(first.cpu), threads: \(first.threads); best and median of the timed runs")
        }
        let notes = Set(results.flatMap { $0.notes ?? [] }).sorted()
        out += notes.map { "note: \($0)" }
        return out.joined(separator: "\n")
    }

    private static func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
}
