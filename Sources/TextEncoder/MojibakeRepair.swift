// ftfy 6.3's mojibake repair (`fix_encoding`): when text looks like UTF-8 that was decoded with
// a single-byte charmap (the badness heuristic fires), encode it back with the first charmap
// that can represent it and decode as UTF-8 (with CESU-8 and Java-null variants); restore
// non-breaking spaces that became spaces; mark sequences a lossy codec destroyed as U+FFFD; fix
// UTF-8 embedded in otherwise good text; fall back to Windows-1252 for Latin-1 C1 controls.
// Repeated until the text stops changing. Bytes are handled as Latin-1 strings so the byte
// regexes run on ICU too.

import Foundation

enum MojibakeRepair {
    /// `ftfy.fix_encoding(text)`.
    static func fixEncoding(_ text: String) -> String {
        var text = text
        while true {
            let previous = text
            text = oneStep(text)
            if PythonString.identical(text, previous) { return text }
        }
    }

    /// The badness heuristic: true when the text likely contains mojibake.
    static func isBad(_ text: String) -> Bool { badness.search(text as NSString, from: 0) != nil }

    private static let badness = PythonRegex(MojibakeTables.badness)
    private static let utf8Detector = PythonRegex(MojibakeTables.utf8Detector)
    private static let aGraveWord = PythonRegex(#"\x{C3} (?! |quele|quela|quilo|s )"#)
    private static let alteredUTF8 = PythonRegex(
        #"[\x{C2}\x{C3}\x{C5}\x{CE}\x{D0}\x{D9}][ ]|[\x{E2}\x{E3}][ ][\x{80}-\x{84}\x{86}-\x{9F}\x{A1}-\x{BF}]"#
            + #"|[\x{E0}-\x{E3}][\x{80}-\x{84}\x{86}-\x{9F}\x{A1}-\x{BF}][ ]|[\x{F0}][ ][\x{80}-\x{BF}][\x{80}-\x{BF}]"#
            + #"|[\x{F0}][\x{80}-\x{BF}][ ][\x{80}-\x{BF}]|[\x{F0}][\x{80}-\x{BF}][\x{80}-\x{BF}][ ]"#)
    private static let lossyUTF8 = PythonRegex(
        #"[\x{C2}-\x{DF}][\x{1A}]|[\x{C2}-\x{C3}][?]"#
            + #"|\x{ED}[\x{A0}-\x{AF}][\x{1A}?]\x{ED}[\x{B0}-\x{BF}][\x{1A}?\x{80}-\x{BF}]"#
            + #"|\x{ED}[\x{A0}-\x{AF}][\x{1A}?\x{80}-\x{BF}]\x{ED}[\x{B0}-\x{BF}][\x{1A}?]"#
            + #"|[\x{E0}-\x{EF}][\x{1A}?][\x{1A}\x{80}-\x{BF}]|[\x{E0}-\x{EF}][\x{1A}\x{80}-\x{BF}][\x{1A}?]"#
            + #"|[\x{F0}-\x{F4}][\x{1A}?][\x{1A}\x{80}-\x{BF}][\x{1A}\x{80}-\x{BF}]"#
            + #"|[\x{F0}-\x{F4}][\x{1A}\x{80}-\x{BF}][\x{1A}?][\x{1A}\x{80}-\x{BF}]"#
            + #"|[\x{F0}-\x{F4}][\x{1A}\x{80}-\x{BF}][\x{1A}\x{80}-\x{BF}][\x{1A}?]|\x{1A}"#)

    /// A single-byte charmap: the characters of bytes 0x80...0xFF (and 0x1A) and the reverse.
    private struct Charmap {
        let name: String
        let encode: [UInt32: UInt8]

        init(name: String, characters: String) {
            self.name = name
            let values = characters.split(separator: " ").compactMap { UInt32($0, radix: 16) }
            var encode: [UInt32: UInt8] = [:]
            for (i, v) in values.enumerated() { encode[v] = i < 128 ? UInt8(0x80 + i) : 0x1A }
            self.encode = encode
        }

        /// `possible_encoding`: every code point is ASCII (but 0x1A) or one of the charmap's.
        func canEncode(_ scalars: [Unicode.Scalar]) -> Bool {
            scalars.allSatisfy { ($0.value < 0x80 && $0.value != 0x1A) || encode[$0.value] != nil }
        }

        func bytes(_ scalars: [Unicode.Scalar]) -> [UInt8] {
            scalars.map { $0.value < 0x80 && $0.value != 0x1A ? UInt8($0.value) : encode[$0.value] ?? 0x3F }
        }
    }

    private static let charmaps = MojibakeTables.charmaps.map { Charmap(name: $0.name, characters: $0.characters) }

    /// `_fix_encoding_one_step_and_explain`.
    static func oneStep(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        if scalars.isEmpty || scalars.allSatisfy({ $0.isASCII }) || !isBad(text) { return text }
        var possible: [String] = []
        for map in charmaps where map.canEncode(scalars) {
            possible.append(map.name)
            var bytes = map.bytes(scalars)
            if map.name != "macroman", alteredUTF8.search(latin1(bytes) as NSString, from: 0) != nil {
                bytes = restoreByteA0(bytes)
            }
            if map.name.hasPrefix("sloppy") { bytes = lossy(bytes) }
            if let fixed = decodeUTF8Variants(bytes) { return fixed }
        }
        if utf8Detector.search(text as NSString, from: 0) != nil {
            let fixed = decodeInconsistentUTF8(text)
            if !PythonString.identical(fixed, text) { return fixed }
        }
        if possible.contains("latin-1") {
            // Latin-1 text with C1 controls read as (strict) Windows-1252. (ftfy first asks
            // whether "windows-1252" was a possible charmap, but that name is never in its list.)
            var out = String.UnicodeScalarView()
            for s in scalars {
                if (0x80...0x9F).contains(s.value) {
                    guard let v = HTMLEntities.invalidCharrefs[s.value], v != s.value, let c = Unicode.Scalar(v) else {
                        return fixC1(text)
                    }
                    out.append(c)
                } else {
                    out.append(s)
                }
            }
            let fixed = String(out)
            if !PythonString.identical(fixed, text) { return fixed }
        }
        return fixC1(text)
    }

    /// fix_c1_controls when the text has C1 controls (the last resort of a step).
    private static func fixC1(_ text: String) -> String {
        TextFixer.mapScalars(text) { s in
            guard (0x80...0x9F).contains(s.value), let v = HTMLEntities.invalidCharrefs[s.value] else { return nil }
            return HTMLEntities.scalarString(v)
        }
    }

    private static func latin1(_ bytes: [UInt8]) -> String {
        PythonString.string(bytes.map { Unicode.Scalar($0) })
    }

    private static func bytes(ofLatin1 text: String) -> [UInt8] {
        text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
    }

    /// `restore_byte_a0`: "Ã " before most words → "Ã\u{A0}", then spaces inside likely
    /// UTF-8 sequences → 0xA0.
    private static func restoreByteA0(_ bytes: [UInt8]) -> [UInt8] {
        let text = aGraveWord.sub("\u{C3}\u{A0} ", latin1(bytes))
        let ns = text as NSString
        var out = ""
        var last = 0
        while let m = alteredUTF8.search(ns, from: last) {
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            out += ns.substring(with: m.range).replacingOccurrences(of: " ", with: "\u{A0}")
            last = m.range.location + m.range.length
        }
        out += ns.substring(from: last)
        return Self.bytes(ofLatin1: out)
    }

    /// `replace_lossy_sequences`: UTF-8-like sequences with a 0x1A (or '?') → UTF-8 of U+FFFD.
    private static func lossy(_ bytes: [UInt8]) -> [UInt8] {
        Self.bytes(ofLatin1: lossyUTF8.sub("\u{EF}\u{BF}\u{BD}", latin1(bytes)))
    }

    /// `decode_inconsistent_utf8`: each UTF-8-looking run that is shorter than the text and
    /// looks bad is repaired on its own.
    private static func decodeInconsistentUTF8(_ text: String) -> String {
        let ns = text as NSString
        let total = text.unicodeScalars.count
        var out = ""
        var last = 0
        while let m = utf8Detector.search(ns, from: last) {
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            let part = ns.substring(with: m.range)
            out += part.unicodeScalars.count < total && isBad(part) ? fixEncoding(part) : part
            last = m.range.location + m.range.length
            if m.range.length == 0 { break }
        }
        return out + ns.substring(from: last)
    }

    /// Strict UTF-8 plus ftfy's "utf-8-variants": C0 80 is U+0000 and a CESU-8 surrogate pair
    /// is one astral character. Nil when the bytes are not valid in that sense.
    static func decodeUTF8Variants(_ b: [UInt8]) -> String? {
        var out = String.UnicodeScalarView()
        var i = 0
        let n = b.count
        func continuation(_ k: Int) -> UInt32? { k < n && b[k] & 0xC0 == 0x80 ? UInt32(b[k] & 0x3F) : nil }
        while i < n {
            let c = b[i]
            if c < 0x80 {
                out.append(Unicode.Scalar(c))
                i += 1
                continue
            }
            if c == 0xC0, i + 1 < n, b[i + 1] == 0x80 {
                out.append(Unicode.Scalar(0))
                i += 2
                continue
            }
            if c == 0xED, i + 5 < n, (0xA0...0xAF).contains(b[i + 1]), b[i + 2] & 0xC0 == 0x80, b[i + 3] == 0xED,
                (0xB0...0xBF).contains(b[i + 4]), b[i + 5] & 0xC0 == 0x80
            {
                let v =
                    (UInt32(b[i + 1] & 0x0F) << 16) + (UInt32(b[i + 2] & 0x3F) << 10) + (UInt32(b[i + 4] & 0x0F) << 6)
                    + UInt32(b[i + 5] & 0x3F) + 0x10000
                guard let s = Unicode.Scalar(v) else { return nil }
                out.append(s)
                i += 6
                continue
            }
            let length: Int, minimum: UInt32, lead: UInt32
            switch c {
            case 0xC2...0xDF: (length, minimum, lead) = (2, 0x80, UInt32(c & 0x1F))
            case 0xE0...0xEF: (length, minimum, lead) = (3, 0x800, UInt32(c & 0x0F))
            case 0xF0...0xF4: (length, minimum, lead) = (4, 0x10000, UInt32(c & 0x07))
            default: return nil
            }
            var v = lead
            for k in 1..<length {
                guard let bits = continuation(i + k) else { return nil }
                v = v << 6 | bits
            }
            guard v >= minimum, v <= 0x10FFFF, !(0xD800...0xDFFF).contains(v), let s = Unicode.Scalar(v) else {
                return nil
            }
            out.append(s)
            i += length
        }
        return String(out)
    }
}
