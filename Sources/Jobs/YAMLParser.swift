// YAMLParser: the one wrapper around Debian's libyaml (CYAML). It reads the event stream of one
// document into a YAMLNode tree with 1-based marks, and rejects what a job file never needs:
// several documents, duplicate keys, non-scalar keys, deep nesting, alias bombs and large files.
// Nodes written out in the file are bounded by the file size alone (a job may list many seeds; the
// job checks then report the real limit); only what aliases add is counted against `maxNodes`.

import CYAML
import Foundation

/// Parses YAML text into a `YAMLNode` tree.
public enum YAMLParser {
    /// Largest accepted file, in bytes.
    public static let maxBytes = 1 << 20
    /// Most nodes aliases may add to a document (each alias counts its anchor's whole subtree).
    /// Nodes written out in the file are not counted: `maxBytes` bounds them.
    public static let maxNodes = 100_000
    /// Deepest accepted nesting of collections.
    public static let maxDepth = 64

    /// Parses one document; nil for an empty stream. Throws `JobError.invalid` with file:line:column.
    public static func parse(_ text: String, file: String) throws -> YAMLNode? {
        let sink = DiagnosticSink(file: file)
        let root = parse(bytes: Array(text.utf8), sink: sink)
        try sink.throwIfAny()
        return root
    }

    /// Reads and parses a file; `file` names it in diagnostics (default: the path).
    public static func parse(contentsOf url: URL, file: String? = nil) throws -> YAMLNode? {
        let name = file ?? url.path
        let sink = DiagnosticSink(file: name)
        let bytes = try readBytes(url, name: name, sink: sink)
        try sink.throwIfAny()
        let root = parse(bytes: bytes, sink: sink)
        try sink.throwIfAny()
        return root
    }

    /// Reads a file whose size is at most `maxBytes` (a larger one adds a diagnostic).
    static func readBytes(_ url: URL, name: String, sink: DiagnosticSink) throws -> [UInt8] {
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            data = try handle.read(upToCount: maxBytes + 1) ?? Data()
        } catch {
            throw JobError.unreadable(path: name, reason: (error as NSError).localizedDescription)
        }
        if data.count > maxBytes {
            sink.error(
                nil, "file is larger than \(maxBytes) bytes",
                hint: "job and config files are small; is this the right file?")
            return []
        }
        return [UInt8](data)
    }

    /// Parses `bytes`, recording problems in `sink`; returns the root of the single document.
    static func parse(bytes: [UInt8], sink: DiagnosticSink) -> YAMLNode? {
        if bytes.count > maxBytes {
            sink.error(
                nil, "file is larger than \(maxBytes) bytes",
                hint: "job and config files are small; is this the right file?")
            return nil
        }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            sink.error(nil, "libyaml could not initialize a parser", hint: "out of memory?")
            return nil
        }
        defer { yaml_parser_delete(&parser) }
        return bytes.withUnsafeBufferPointer { buffer -> YAMLNode? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = TreeBuilder(sink: sink)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    reportParserError(&parser, bytes: buffer, sink: sink)
                    return nil
                }
                let done = event.type == YAML_STREAM_END_EVENT
                let ok = builder.handle(&event)
                yaml_event_delete(&event)
                if !ok { return nil }
                if done { return builder.root }
            }
        }
    }

    /// Turns libyaml's problem/context and marks into one diagnostic.
    private static func reportParserError(
        _ parser: inout yaml_parser_t, bytes: UnsafeBufferPointer<UInt8>, sink: DiagnosticSink
    ) {
        let problem = parser.problem.map { String(cString: $0) } ?? "syntax error"
        var mark = YAMLMark(line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1)
        var message = problem
        var hint = "check the indentation (spaces only) and that quotes and brackets are closed"
        if parser.error == YAML_READER_ERROR {
            mark = position(ofByte: Int(parser.problem_offset), in: bytes)
            hint = "save the file as UTF-8"
        }
        if let context = parser.context.map({ String(cString: $0) }) {
            message += " " + context
            let start = YAMLMark(line: Int(parser.context_mark.line) + 1, column: Int(parser.context_mark.column) + 1)
            if start != mark { hint = "the construct started at \(start); " + hint }
        }
        sink.error(mark, message, hint: hint)
    }

    /// 1-based line:column of a byte offset (columns count UTF-8 lead bytes).
    private static func position(ofByte offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> YAMLMark {
        var line = 1, column = 1
        for byte in bytes.prefix(offset) {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return YAMLMark(line: line, column: column)
    }
}

/// Builds the tree from libyaml events; a stack holds the open collections.
private struct TreeBuilder {
    /// An open sequence or mapping.
    private final class Frame {
        let start: YAMLMark
        let tag: String?
        let anchor: String?
        let isMapping: Bool
        var items: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        var size = 1
        var pendingKey: (key: String, mark: YAMLMark, keep: Bool)?
        var seen: [String: YAMLMark] = [:]

        init(start: YAMLMark, tag: String?, anchor: String?, isMapping: Bool) {
            self.start = start
            self.tag = tag
            self.anchor = anchor
            self.isMapping = isMapping
        }
    }

    let sink: DiagnosticSink
    private var stack: [Frame] = []
    private var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    /// Nodes added by aliases so far (an alias bomb shows here; written-out nodes do not count).
    private var aliasNodes = 0
    private var documents = 0
    private(set) var root: YAMLNode?

    init(sink: DiagnosticSink) { self.sink = sink }

    /// Handles one event; false on a fatal problem (already recorded).
    mutating func handle(_ event: inout yaml_event_t) -> Bool {
        let mark = YAMLMark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                sink.error(
                    mark, "a second YAML document starts here",
                    hint: "a file holds one document; remove the `---` line and what follows")
                return false
            }
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: s.value, count: Int(s.length)), as: UTF8.self)
            let style: YAMLScalarStyle
            switch s.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            return complete(
                YAMLNode(.scalar(text, style), mark: mark, tag: Self.tag(s.tag)), size: 1, anchor: Self.string(s.anchor)
            )
        case YAML_ALIAS_EVENT:
            guard let name = Self.string(event.data.alias.anchor), let target = anchors[name] else {
                sink.error(mark, "unknown alias", hint: "define the anchor (`&name`) before using `*name`")
                return false
            }
            aliasNodes += target.size
            guard aliasNodes <= YAMLParser.maxNodes else {
                sink.error(
                    mark, "aliases expand the document by more than \(YAMLParser.maxNodes) nodes",
                    hint: "each alias (`*name`) repeats its anchor's whole subtree; use fewer aliases")
                return false
            }
            var node = target.node
            node.mark = mark
            return complete(node, size: target.size, anchor: nil)
        case YAML_SEQUENCE_START_EVENT:
            let s = event.data.sequence_start
            return open(Frame(start: mark, tag: Self.tag(s.tag), anchor: Self.string(s.anchor), isMapping: false))
        case YAML_MAPPING_START_EVENT:
            let m = event.data.mapping_start
            return open(Frame(start: mark, tag: Self.tag(m.tag), anchor: Self.string(m.anchor), isMapping: true))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { return true }
            let content: YAMLNode.Content = frame.isMapping ? .mapping(frame.pairs) : .sequence(frame.items)
            return complete(
                YAMLNode(content, mark: frame.start, tag: frame.tag), size: frame.size, anchor: frame.anchor)
        default:
            break
        }
        return true
    }

    private mutating func open(_ frame: Frame) -> Bool {
        guard stack.count < YAMLParser.maxDepth else {
            sink.error(
                frame.start, "nesting is deeper than \(YAMLParser.maxDepth) levels",
                hint: "job and config files are shallow")
            return false
        }
        stack.append(frame)
        return true
    }

    /// Adds a finished node to its parent (or makes it the root).
    private mutating func complete(_ node: YAMLNode, size: Int, anchor: String?) -> Bool {
        if let anchor { anchors[anchor] = (node, size) }
        guard let top = stack.last else {
            root = node
            return true
        }
        top.size += size
        guard top.isMapping else {
            top.items.append(node)
            return true
        }
        if let pending = top.pendingKey {
            if pending.keep { top.pairs.append(YAMLPair(key: pending.key, keyMark: pending.mark, value: node)) }
            top.pendingKey = nil
            return true
        }
        guard case .scalar(let key, _) = node.content else {
            sink.error(
                node.mark, "a mapping key must be a scalar", hint: "write `key: value` with a plain name as the key")
            top.pendingKey = ("", node.mark, false)
            return true
        }
        if let first = top.seen[key] {
            sink.error(
                node.mark, "duplicate key '\(key)'",
                hint: "it is already set at line \(first.line), column \(first.column); keep one")
            top.pendingKey = (key, node.mark, false)
        } else {
            top.seen[key] = node.mark
            top.pendingKey = (key, node.mark, true)
        }
        return true
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: UnsafePointer($0)) }
    }

    /// An explicit tag; the non-specific `!` counts as `!!str`.
    private static func tag(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let tag = string(pointer) else { return nil }
        return tag == "!" ? YAMLNode.coreTagPrefix + "str" : tag
    }
}
