// Suggestions: "did you mean" candidates by edit distance (case-insensitive), for keys, enum values,
// model names and class names.

enum Suggestions {
    /// Levenshtein distance between two strings, compared by Unicode scalars.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let substitution = previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[y.count]
    }

    /// The closest candidates (at most `limit`, best first) within a distance that grows with length;
    /// a case-insensitive exact match is the only suggestion; a candidate that starts with the word comes first.
    static func closest(to word: String, in candidates: [String], limit: Int = 3) -> [String] {
        let w = word.lowercased()
        let budget = max(2, w.count / 3)
        var scored: [(String, Int)] = []
        for candidate in candidates {
            let c = candidate.lowercased()
            var distance = editDistance(w, c)
            if c == w {
                distance = -2
            } else if w.count >= 3 && c.hasPrefix(w) {
                distance = min(distance, -1)
            }
            if distance <= budget { scored.append((candidate, distance)) }
        }
        if scored.contains(where: { $0.1 == -2 }) { scored.removeAll { $0.1 != -2 } }
        return scored.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.prefix(limit).map(\.0)
    }

    /// "; did you mean 'x'?" or "; did you mean 'x', 'y' or 'z'?" or "" when nothing is close.
    static func didYouMean(_ word: String, in candidates: [String]) -> String {
        let best = closest(to: word, in: candidates)
        guard let first = best.first else { return "" }
        if best.count == 1 { return "; did you mean '\(first)'?" }
        let quoted = best.map { "'\($0)'" }
        return "; did you mean " + quoted.dropLast().joined(separator: ", ") + " or " + (quoted.last ?? "") + "?"
    }

    /// "'a', 'b' or 'c'" for hints.
    static func list(_ values: [String]) -> String {
        let quoted = values.map { "'\($0)'" }
        guard quoted.count > 1 else { return quoted.first ?? "(none)" }
        return quoted.dropLast().joined(separator: ", ") + " or " + (quoted.last ?? "")
    }
}
