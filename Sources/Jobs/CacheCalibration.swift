// CacheCalibration: a model's measured adaptive Skip-Cache trade-off, read from the JSON lines that
// `skipdit bench cache --json` prints (one row per policy setting: policy, threshold, sampler, steps,
// mean PSNR against the uncached video, FLOP speed-up). A model entry names the file with
// `cache_calibration:`; `cache: { policy: adaptive, target_psnr: P }` then takes the fastest
// calibrated threshold (with its cap on cached steps) whose mean PSNR, and that of every smaller
// threshold, reaches P, among the rows of the job's sampler and window at the nearest step count.

import Foundation

public struct CacheCalibration: Sendable, Equatable, Codable {
    /// One measured adaptive setting.
    public struct Point: Sendable, Equatable, Codable {
        public var threshold: Double
        public var maxCached: Int
        public var start: Int
        public var sampler: String
        public var steps: Int
        public var psnr: Double
        public var flopSpeedup: Double

        enum CodingKeys: String, CodingKey {
            case threshold, start, sampler, steps, psnr
            case maxCached = "max_cached"
            case flopSpeedup = "flop_speedup"
        }
    }

    /// The file it was read from (for messages) and its adaptive rows.
    public var file: String
    public var points: [Point]

    /// Reads the bench's JSON lines; rows of other policies are skipped.
    public init(contentsOf url: URL) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        var points: [Point] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            struct Kind: Decodable { var policy: String? }
            let data = Data(trimmed.utf8)
            do {
                guard try JSONDecoder().decode(Kind.self, from: data).policy == "adaptive" else { continue }
                points.append(try JSONDecoder().decode(Point.self, from: data))
            } catch {
                throw CalibrationError(file: url.path, line: n + 1, reason: Self.describe(error))
            }
        }
        guard !points.isEmpty else {
            throw CalibrationError(file: url.path, line: nil, reason: "no row with \"policy\": \"adaptive\"")
        }
        self.file = url.path
        self.points = points
    }

    public init(file: String, points: [Point]) {
        self.file = file
        self.points = points
    }

    /// The row for a target mean PSNR: among the rows of this sampler and window start at the
    /// calibrated step count nearest to `steps` (and, of equal distance, the larger), the largest
    /// threshold whose PSNR and every smaller threshold's reach the target. Fails naming what the
    /// calibration offers.
    public func threshold(forTargetPSNR target: Double, sampler: String, steps: Int, start: Int)
        -> Result<Point, CalibrationError>
    {
        let same = points.filter { $0.sampler == sampler && $0.start == start }
        guard
            let nearest = same.map(\.steps).min(by: {
                (abs($0 - steps), -$0) < (abs($1 - steps), -$1)
            })
        else {
            let have = Set(points.map { "\($0.sampler) from t = \($0.start)" }).sorted().joined(separator: ", ")
            return .failure(
                CalibrationError(
                    file: file, line: nil, reason: "no \(sampler) rows with the window from t = \(start) (it has: \(have))"))
        }
        let rows = same.filter { $0.steps == nearest }.sorted { $0.threshold < $1.threshold }
        var best: Point?
        for row in rows {
            guard row.psnr >= target else { break }
            best = row
        }
        guard let best else {
            let top = rows.map(\.psnr).max() ?? 0
            return .failure(
                CalibrationError(
                    file: file, line: nil,
                    reason: String(
                        format: "no calibrated threshold reaches %.1f dB at %@ %d steps (the best gives %.1f dB)",
                        target, sampler, nearest, top)))
        }
        return .success(best)
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "bad \"\(c.codingPath.map(\.stringValue).joined(separator: "."))\""
        case DecodingError.dataCorrupted: return "not a JSON object"
        default: return "\(error)"
        }
    }
}

/// A calibration file that cannot be used.
public struct CalibrationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var reason: String

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(reason)" }
}
