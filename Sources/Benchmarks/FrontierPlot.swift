// FrontierPlot: the speed/quality frontier of `bench cache` as an SVG drawn by the program: the
// speed-up the FLOP count predicts (the measured one follows it within a few percent on a quiet
// machine, and is noisy on a busy one) against mean PSNR (dB, against the uncached video) for every cache setting, one series per
// policy and timestep window (fixed N, adaptive thresholds), each point with its per-video spread
// (a dot per video and a whisker from the worst to the best), no cache at speed-up 1 on the right edge.

import Foundation

public enum FrontierPlot {
    /// The SVG document for `rows` (bench cache rows of one sampling setting).
    public static func svg(_ rows: [CacheQualityResult], title: String) -> String {
        let (width, height) = (760.0, 500.0)
        let (left, right, top, bottom) = (70.0, 200.0, 50.0, 60.0)
        let cached = rows.filter { $0.policy != .off && $0.psnr != nil }
        let allPSNR = cached.flatMap { $0.psnrs ?? [$0.psnr ?? 0] }
        let xMin = floor(((allPSNR.min() ?? 20) - 1) / 5) * 5
        let xMax = ceil(((allPSNR.max() ?? 40) + 1) / 5) * 5
        let yMax = max(1.5, ceil(((rows.map(\.flopSpeedup).max() ?? 2) * 1.08) * 4) / 4)
        let plotW = width - left - right, plotH = height - top - bottom
        func x(_ v: Double) -> Double { left + (min(max(v, xMin), xMax) - xMin) / (xMax - xMin) * plotW }
        func y(_ v: Double) -> Double { top + plotH - (v - 1) / (yMax - 1) * plotH }
        func n(_ v: Double) -> String { String(format: "%.1f", v) }

        var out: [String] = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(n(left))\" y=\"24\" font-size=\"15\" font-weight=\"bold\">\(escape(title))</text>",
        ]
        // Grid and axes.
        var tick = xMin
        while tick <= xMax + 1e-9 {
            out.append(
                "<line x1=\"\(n(x(tick)))\" y1=\"\(n(top))\" x2=\"\(n(x(tick)))\" y2=\"\(n(top + plotH))\" stroke=\"#e4e4e4\"/>")
            out.append(
                "<text x=\"\(n(x(tick)))\" y=\"\(n(top + plotH + 18))\" text-anchor=\"middle\">\(Int(tick))</text>")
            tick += 5
        }
        var ytick = 1.0
        while ytick <= yMax + 1e-9 {
            out.append(
                "<line x1=\"\(n(left))\" y1=\"\(n(y(ytick)))\" x2=\"\(n(left + plotW))\" y2=\"\(n(y(ytick)))\" stroke=\"#e4e4e4\"/>")
            out.append(
                "<text x=\"\(n(left - 8))\" y=\"\(n(y(ytick) + 4))\" text-anchor=\"end\">\(String(format: "%g", (ytick * 100).rounded() / 100))x</text>")
            ytick += 0.25
        }
        out.append(
            "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotW))\" height=\"\(n(plotH))\" fill=\"none\" stroke=\"#444\"/>")
        out.append(
            "<text x=\"\(n(left + plotW / 2))\" y=\"\(n(height - 18))\" text-anchor=\"middle\">mean PSNR against the uncached video (dB); dots: each video, whisker: worst to best</text>")
        out.append(
            "<text transform=\"translate(18 \(n(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">speed-up (FLOP count)</text>")

        // Series: one per policy and window start.
        let defaultStart = rows.first?.start ?? 900
        let palette = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
        var series: [(key: String, rows: [CacheQualityResult])] = []
        for r in cached {
            let key = r.policy == .fixed ? "fixed N" : "adaptive"
            let name = key + (r.start == defaultStart ? "" : " (start \(r.start))")
            if let i = series.firstIndex(where: { $0.key == name }) { series[i].rows.append(r) } else {
                series.append((name, [r]))
            }
        }
        var legendY = top + 10
        for (k, s) in series.enumerated() {
            let colour = palette[k % palette.count]
            let points = s.rows.sorted { $0.flopSpeedup < $1.flopSpeedup }
            let path = points.map { "\(n(x($0.psnr ?? xMin))),\(n(y($0.flopSpeedup)))" }.joined(separator: " ")
            out.append("<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\"/>")
            for r in points {
                let py = y(r.flopSpeedup)
                let spread = r.psnrs ?? []
                if let lo = spread.min(), let hi = spread.max() {
                    out.append(
                        "<line x1=\"\(n(x(lo)))\" y1=\"\(n(py))\" x2=\"\(n(x(hi)))\" y2=\"\(n(py))\" stroke=\"\(colour)\" stroke-opacity=\"0.35\"/>")
                }
                for v in spread {
                    out.append(
                        "<circle cx=\"\(n(x(v)))\" cy=\"\(n(py))\" r=\"1.8\" fill=\"\(colour)\" fill-opacity=\"0.35\"/>")
                }
                let marker =
                    r.policy == .fixed
                    ? "<rect x=\"\(n(x(r.psnr ?? xMin) - 4))\" y=\"\(n(py - 4))\" width=\"8\" height=\"8\" fill=\"\(colour)\"/>"
                    : "<circle cx=\"\(n(x(r.psnr ?? xMin)))\" cy=\"\(n(py))\" r=\"4\" fill=\"\(colour)\"/>"
                out.append(marker)
                let label =
                    (r.policy == .fixed ? "N=\(r.interval ?? 1)" : String(format: "%g", r.threshold ?? 0))
                    + (r.cliff == true ? " (cliff)" : "")
                out.append(
                    "<text x=\"\(n(x(r.psnr ?? xMin) + 6))\" y=\"\(n(py - 6))\" font-size=\"10\" fill=\"\(colour)\">\(escape(label))</text>"
                )
            }
            out.append(
                "<rect x=\"\(n(left + plotW + 16))\" y=\"\(n(legendY - 8))\" width=\"10\" height=\"10\" fill=\"\(colour)\"/>")
            out.append("<text x=\"\(n(left + plotW + 32))\" y=\"\(n(legendY + 1))\">\(escape(s.key))</text>")
            legendY += 20
        }
        // No cache: speed-up 1, identical videos (infinite PSNR), at the right edge.
        out.append("<circle cx=\"\(n(left + plotW))\" cy=\"\(n(y(1)))\" r=\"4\" fill=\"#000\"/>")
        out.append(
            "<text x=\"\(n(left + plotW - 6))\" y=\"\(n(y(1) - 8))\" text-anchor=\"end\">no cache (identical)</text>")
        if let r = rows.first {
            let notes = [
                "\(r.sampler) \(r.steps) steps", "guidance \(String(format: "%g", r.guidance))",
                "window \(r.start)/\(r.stop)", "\(r.videos) videos", "\(r.threads) threads",
            ]
            for (i, line) in notes.enumerated() {
                out.append(
                    "<text x=\"\(n(left + plotW + 16))\" y=\"\(n(legendY + 20 + 16 * Double(i)))\" fill=\"#555\">\(escape(line))</text>"
                )
            }
            out.append(
                "<text x=\"\(n(left))\" y=\"40\" fill=\"#555\">\(escape(r.cpu))</text>")
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
