// MetricsSettings: the `metrics:` section of the config: where the daemon writes its Prometheus text
// exposition for node_exporter's textfile collector (README, "Metrics").

import Foundation

/// `metrics:` settings.
public struct MetricsSettings: Sendable, Codable, Equatable {
    /// The `.prom` file (nil: no metrics are written). Its folder must exist; the file is replaced
    /// atomically at every step boundary and state change.
    public var textfile: URL?

    public init() {}

    static let keys = ["textfile"]

    /// Reads a `metrics:` mapping; relative paths are resolved against `directory` (the config's folder).
    static func read(_ node: YAMLNode, directory: URL, reader: NodeReader) -> MetricsSettings {
        var s = MetricsSettings()
        guard let m = reader.mapping(node, known: keys, what: "'metrics'") else { return s }
        if let n = m["textfile"],
            let url = ModelEntry.readPath(n.value, key: "textfile", directory: directory, reader: reader)
        {
            if url.pathExtension == "prom" {
                s.textfile = url
            } else {
                reader.sink.error(
                    n.value.mark, "'textfile' is '\(url.lastPathComponent)', not a .prom file",
                    hint: "node_exporter's textfile collector reads *.prom files, e.g. "
                        + "/var/lib/prometheus/node-exporter/skipdit.prom")
            }
        }
        return s
    }
}
