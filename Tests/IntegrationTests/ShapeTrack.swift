// ShapeTrack: finds the demo model's single shape on decoded frames and names the motion it makes —
// the objective check of a demo video (the same measure as tools/demo-model/evaluate.py).
//
// Per frame (H, W, 3) uint8: the background is the median colour of the border pixels; the shape is the
// largest 8-connected region differing from it by more than 0.2 (of 1) in some channel; its centroid,
// area and the median colour of its pixels are the track. Motion: a rise of ≥ 6 px after a fall of
// ≥ 6 px (the lowest point inside the clip) is `bounce`; else a centroid travel of ≥ 10 px names the
// direction; else an area ratio last/first of ≥ 2 (≤ 1/2) is `grow` (`shrink`); else `none`.

import Foundation

struct ShapeTrack {
    struct Point: Equatable {
        var x: Double
        var y: Double
        var area: Int
        /// The median colour of the shape's pixels, per channel, 0...1.
        var colour: [Double]
    }

    /// One point per frame; nil where no shape was found.
    let points: [Point?]

    static let threshold = 0.2

    /// frames: F frames of (height, width, 3) uint8, row-major.
    init(frames: [[UInt8]], width: Int, height: Int) {
        points = frames.map { Self.locate($0, width: width, height: height) }
    }

    /// The shape's colour over the clip (the median of its per-frame medians); nil when a frame has none.
    var colour: [Double]? {
        let found = points.compactMap { $0 }
        guard found.count == points.count, !found.isEmpty else { return nil }
        return (0..<3).map { c in Self.median(found.map { $0.colour[c] }) }
    }

    /// The motion the track shows, as one of the demo classes or "none".
    var motion: String {
        let found = points.compactMap { $0 }
        guard found.count == points.count, let first = found.first, let last = found.last, first.area > 0 else {
            return "none"
        }
        let ys = found.map(\.y)
        if let low = ys.indices.max(by: { ys[$0] < ys[$1] }), low > 0, low < ys.count - 1,
            let before = ys[...low].min(), let after = ys[low...].min(),
            ys[low] - before >= 6, ys[low] - after >= 6
        {
            return "bounce"
        }
        let dx = last.x - first.x, dy = last.y - first.y
        if max(abs(dx), abs(dy)) >= 10 {
            if abs(dx) >= abs(dy) { return dx > 0 ? "right" : "left" }
            return dy > 0 ? "down" : "up"
        }
        let ratio = Double(last.area) / Double(first.area)
        if ratio >= 2 { return "grow" }
        if ratio <= 0.5 { return "shrink" }
        return "none"
    }

    private static func locate(_ frame: [UInt8], width: Int, height: Int) -> Point? {
        precondition(frame.count == width * height * 3, "frame is not (\(height), \(width), 3)")
        // Median of the border pixels, per channel.
        var border: [[Double]] = [[], [], []]
        func addBorder(_ y: Int, _ x: Int) {
            for c in 0..<3 { border[c].append(Double(frame[(y * width + x) * 3 + c]) / 255) }
        }
        for x in 0..<width {
            addBorder(0, x)
            addBorder(height - 1, x)
        }
        for y in 0..<height {
            addBorder(y, 0)
            addBorder(y, width - 1)
        }
        let background = border.map { median($0) }
        var mask = [Bool](repeating: false, count: width * height)
        for i in 0..<(width * height) {
            for c in 0..<3 where abs(Double(frame[i * 3 + c]) / 255 - background[c]) > threshold {
                mask[i] = true
            }
        }
        let region = largestComponent(mask, width: width, height: height)
        guard !region.isEmpty else { return nil }
        let sx = region.reduce(0.0) { $0 + Double($1 % width) }, sy = region.reduce(0.0) { $0 + Double($1 / width) }
        let n = Double(region.count)
        let colour = (0..<3).map { c in median(region.map { Double(frame[$0 * 3 + c]) / 255 }) }
        return Point(x: sx / n + 0.5, y: sy / n + 0.5, area: region.count, colour: colour)
    }

    /// numpy's median (the mean of the two middle values for an even count).
    private static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        let mid = s.count / 2
        return s.count % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
    }

    /// The pixel indices of the largest 8-connected true region (the first found on ties).
    private static func largestComponent(_ mask: [Bool], width: Int, height: Int) -> [Int] {
        var seen = [Bool](repeating: false, count: mask.count)
        var best: [Int] = []
        for start in mask.indices where mask[start] && !seen[start] {
            var region: [Int] = []
            var stack = [start]
            seen[start] = true
            while let i = stack.popLast() {
                region.append(i)
                let y = i / width, x = i % width
                for ny in max(0, y - 1)...min(height - 1, y + 1) {
                    for nx in max(0, x - 1)...min(width - 1, x + 1) {
                        let j = ny * width + nx
                        if mask[j] && !seen[j] {
                            seen[j] = true
                            stack.append(j)
                        }
                    }
                }
            }
            if region.count > best.count { best = region }
        }
        return best
    }
}
