// The motion and colour measure of the demo tests on drawn clips: it must name each kind of motion and
// find the shape's colour, so that the demo models' tests fail when a model draws the wrong one.

import XCTest

final class ShapeTrackTests: XCTestCase {
    /// A square of half-size r centred at (cx, cy) per frame, colour (230, 60, 40) on (30, 40, 90).
    private func clip(_ path: [(cx: Double, cy: Double, r: Double)], size: Int = 64) -> [[UInt8]] {
        path.map { p in
            var frame = [UInt8](repeating: 0, count: size * size * 3)
            for y in 0..<size {
                for x in 0..<size {
                    let inside = abs(Double(x) + 0.5 - p.cx) <= p.r && abs(Double(y) + 0.5 - p.cy) <= p.r
                    let rgb: [UInt8] = inside ? [230, 60, 40] : [30, 40, 90]
                    for c in 0..<3 { frame[(y * size + x) * 3 + c] = rgb[c] }
                }
            }
            return frame
        }
    }

    private func motion(_ path: [(cx: Double, cy: Double, r: Double)]) -> String {
        ShapeTrack(frames: clip(path), width: 64, height: 64).motion
    }

    func testNamesEveryDemoMotion() {
        let t = (0..<8).map { Double($0) / 7 }
        XCTAssertEqual(motion(t.map { (50 - 30 * $0, 30, 8) }), "left")
        XCTAssertEqual(motion(t.map { (14 + 30 * $0, 30, 8) }), "right")
        XCTAssertEqual(motion(t.map { (30, 50 - 30 * $0, 8) }), "up")
        XCTAssertEqual(motion(t.map { (30, 14 + 30 * $0, 8) }), "down")
        XCTAssertEqual(motion(t.map { (32, 32, 3 + 12 * $0) }), "grow")
        XCTAssertEqual(motion(t.map { (32, 32, 15 - 12 * $0) }), "shrink")
        XCTAssertEqual(motion(t.map { (32, 50 - 30 * abs(cos(Double.pi * $0)), 7) }), "bounce")
    }

    func testStillOrMissingShapesAreNone() {
        XCTAssertEqual(motion(Array(repeating: (32, 32, 8), count: 8)), "none")
        XCTAssertEqual(motion(Array(repeating: (-40, -40, 8), count: 8)), "none")  // off the frame
    }

    func testTheLargestRegionIsTheShape() {
        // A small blob in a corner does not pull the centroid.
        var frames = clip((0..<8).map { (14 + 30 * Double($0) / 7, 40, 8) })
        for f in frames.indices {
            for c in 0..<3 { frames[f][(2 * 64 + 2) * 3 + c] = 255 }
        }
        let track = ShapeTrack(frames: frames, width: 64, height: 64)
        XCTAssertEqual(track.motion, "right")
        XCTAssertEqual(track.points.first??.area, 16 * 16)
        XCTAssertEqual(track.points.first??.y ?? 0, 40, accuracy: 0.01)
        // The shape's colour, not the background's or the blob's.
        let colour = try? XCTUnwrap(track.colour)
        XCTAssertEqual(colour?.map { ($0 * 255).rounded() }, [230, 60, 40])
    }
}
