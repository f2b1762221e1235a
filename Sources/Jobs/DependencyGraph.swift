// DependencyGraph: the `after:` lists of a set of jobs (job id -> the ids it waits for), and the one
// question asked of it: is a job on a cycle, and which? Used by `skipdit validate` over the files it is
// given and by the spool over the jobs that wait in it.

/// Job dependencies: id -> the ids of the jobs it runs after.
public struct DependencyGraph: Sendable, Equatable {
    /// The edges; a job that is not a key waits for nothing (as far as this graph knows).
    public var after: [String: [String]]

    /// A graph of `after` lists.
    public init(after: [String: [String]]) { self.after = after }

    /// The first cycle through `start`, as the ids along it ending with `start` again
    /// (`[a, b, a]`); nil when `start` is on no cycle. Searched depth first, in list order.
    public func cycle(through start: String) -> [String]? {
        var visited: Set<String> = []
        func walk(_ id: String, _ path: [String]) -> [String]? {
            for next in after[id] ?? [] {
                if next == start { return path + [next] }
                guard visited.insert(next).inserted else { continue }
                if let found = walk(next, path + [next]) { return found }
            }
            return nil
        }
        return walk(start, [start])
    }

    /// Every cycle's text, once per cycle (each reported from its smallest id): "a -> b -> a".
    public func cycles() -> [[String]] {
        var seen: Set<Set<String>> = []
        var found: [[String]] = []
        for id in after.keys.sorted() {
            guard let cycle = cycle(through: id) else { continue }
            let members = Set(cycle)
            guard members.min() == id, seen.insert(members).inserted else { continue }
            found.append(cycle)
        }
        return found
    }

    /// "a -> b -> a"
    public static func text(_ cycle: [String]) -> String { cycle.joined(separator: " -> ") }
}
