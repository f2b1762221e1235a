// Locates Tests/Fixtures in the source tree, so tests run from any working directory.

import Foundation

public enum Fixtures {
    /// Tests/Fixtures (absolute).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// A suite directory under Tests/Fixtures, e.g. "c2v".
    public static func suite(_ name: String) -> URL { root.appendingPathComponent(name) }
}
