// ftfy 6.3 `fix_text` with its default configuration, as the official caption cleaning calls it:
// HTML entity decoding (skipped once a line contains '<'), mojibake repair (MojibakeRepair.swift),
// C1 controls as Windows-1252, Latin ligatures, fullwidth/halfwidth forms, curly quotes, line
// breaks, terminal escapes, control characters and NFC, repeated per line until nothing changes.

import Foundation

enum TextFixer {
    /// `ftfy.fix_text(text)`.
    static func fixText(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = ""
        var unescapeHTML = true
        var position = 0
        let maxSegment = 1_000_000
        while position < scalars.count {
            var end = position
            while end < scalars.count, scalars[end] != "\n" { end += 1 }
            end = min(end < scalars.count ? end + 1 : end, position + maxSegment)
            let segment = Array(scalars[position..<end])
            // ftfy's "auto": once a segment contains '<' it stops decoding entities for good.
            if segment.contains("<") { unescapeHTML = false }
            out += fixSegment(PythonString.string(segment), unescapeHTML: unescapeHTML)
            position = end
        }
        return out
    }

    private static func fixSegment(_ segment: String, unescapeHTML: Bool) -> String {
        var text = segment
        while true {
            let original = text
            if unescapeHTML { text = unescapeHTMLEntities(text) }
            text = MojibakeRepair.fixEncoding(text)
            text = mapScalars(text) { s in
                if (0x80...0x9F).contains(s.value), let v = HTMLEntities.invalidCharrefs[s.value] {
                    return HTMLEntities.scalarString(v)  // fix_c1_controls (sloppy Windows-1252)
                }
                return nil
            }
            text = mapScalars(text) { ligatures[$0.value] }
            text = mapScalars(text) { widthMap[$0.value] }
            text = mapScalars(text) { s in (0x201C...0x201F).contains(s.value) ? "\"" : nil }
            text = mapScalars(text) { s in s.value == 0x2BC || (0x2018...0x201B).contains(s.value) ? "'" : nil }
            text = fixLineBreaks(text)
            text = terminalEscape.sub("", text)
            text = mapScalars(text) { isRemovedControl($0.value) ? "" : nil }
            text = text.precomposedStringWithCanonicalMapping
            if PythonString.identical(text, original) { return text }
        }
    }

    /// Replaces code points for which `map` answers a string.
    static func mapScalars(_ text: String, _ map: (Unicode.Scalar) -> String?) -> String {
        var out = String.UnicodeScalarView()
        var changed = false
        for s in text.unicodeScalars {
            if let r = map(s) {
                out.append(contentsOf: r.unicodeScalars)
                changed = true
            } else {
                out.append(s)
            }
        }
        return changed ? String(out) : text
    }

    private static let entity = PythonRegex("&#?[0-9A-Za-z]{1,24};")
    private static let terminalEscape = PythonRegex("\\x{1B}\\[((?:\\p{Nd}|;)*)([a-zA-Z])")

    /// ftfy's `unescape_html`: only complete "&...;" references, including all-caps names.
    static func unescapeHTMLEntities(_ text: String) -> String {
        guard text.unicodeScalars.contains("&") else { return text }
        let ns = text as NSString
        var out = ""
        var last = 0
        while let m = entity.search(ns, from: last) {
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            let reference = ns.substring(with: m.range)
            if let v = HTMLEntities.ftfy[reference] {
                out += v
            } else if reference.hasPrefix("&#") {
                let decoded = HTMLEntities.unescape(reference)
                out += decoded.unicodeScalars.contains(";") ? reference : decoded
            } else {
                out += reference
            }
            last = m.range.location + m.range.length
        }
        return out + ns.substring(from: last)
    }

    private static func fixLineBreaks(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var previousCR = false
        for s in text.unicodeScalars {
            if s == "\n", previousCR {
                previousCR = false
                continue  // the "\r" already became "\n"
            }
            previousCR = s == "\r"
            switch s.value {
            case 0x0D, 0x2028, 0x2029, 0x85: out.append("\n")
            default: out.append(s)
            }
        }
        return String(out)
    }

    private static func isRemovedControl(_ v: UInt32) -> Bool {
        switch v {
        case 0x00...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x206A...0x206F, 0xFEFF, 0xFFF9...0xFFFC: return true
        default: return false
        }
    }

    /// ftfy's LIGATURES: Latin typographic ligatures and legacy digraphs.
    private static let ligatures: [UInt32: String] = [
        0x132: "IJ", 0x133: "ij", 0x149: "\u{2BC}n", 0x1F1: "DZ", 0x1F2: "Dz", 0x1F3: "dz", 0x1C4: "D\u{17D}",
        0x1C5: "D\u{17E}", 0x1C6: "d\u{17E}", 0x1C7: "LJ", 0x1C8: "Lj", 0x1C9: "lj", 0x1CA: "NJ", 0x1CB: "Nj",
        0x1CC: "nj", 0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl", 0xFB03: "ffi", 0xFB04: "ffl", 0xFB05: "\u{17F}t",
        0xFB06: "st",
    ]

    /// ftfy's WIDTH_MAP: U+3000 → space and the NFKC forms of U+FF01...U+FFEF, as ranges
    /// "lo-hi:base[+more]" (lo maps to base, lo+1 to base+1, ...). From CPython's unicodedata.
    private static let widthMap: [UInt32: String] = {
        let packed = """
            3000-3000:20 FF01-FF5E:21 FF5F-FF60:2985 FF61-FF61:3002 FF62-FF63:300C FF64-FF64:3001
            FF65-FF65:30FB FF66-FF66:30F2 FF67-FF67:30A1 FF68-FF68:30A3 FF69-FF69:30A5 FF6A-FF6A:30A7
            FF6B-FF6B:30A9 FF6C-FF6C:30E3 FF6D-FF6D:30E5 FF6E-FF6E:30E7 FF6F-FF6F:30C3 FF70-FF70:30FC
            FF71-FF71:30A2 FF72-FF72:30A4 FF73-FF73:30A6 FF74-FF74:30A8 FF75-FF76:30AA FF77-FF77:30AD
            FF78-FF78:30AF FF79-FF79:30B1 FF7A-FF7A:30B3 FF7B-FF7B:30B5 FF7C-FF7C:30B7 FF7D-FF7D:30B9
            FF7E-FF7E:30BB FF7F-FF7F:30BD FF80-FF80:30BF FF81-FF81:30C1 FF82-FF82:30C4 FF83-FF83:30C6
            FF84-FF84:30C8 FF85-FF8A:30CA FF8B-FF8B:30D2 FF8C-FF8C:30D5 FF8D-FF8D:30D8 FF8E-FF8E:30DB
            FF8F-FF93:30DE FF94-FF94:30E4 FF95-FF95:30E6 FF96-FF9B:30E8 FF9C-FF9C:30EF FF9D-FF9D:30F3
            FF9E-FF9F:3099 FFA0-FFA0:1160 FFA1-FFA2:1100 FFA3-FFA3:11AA FFA4-FFA4:1102 FFA5-FFA6:11AC
            FFA7-FFA9:1103 FFAA-FFAF:11B0 FFB0-FFB0:111A FFB1-FFB3:1106 FFB4-FFB4:1121 FFB5-FFBE:1109
            FFC2-FFC7:1161 FFCA-FFCF:1167 FFD2-FFD7:116D FFDA-FFDC:1173 FFE0-FFE1:A2 FFE2-FFE2:AC
            FFE3-FFE3:20+304 FFE4-FFE4:A6 FFE5-FFE5:A5 FFE6-FFE6:20A9 FFE8-FFE8:2502 FFE9-FFEC:2190
            FFED-FFED:25A0 FFEE-FFEE:25CB
            """
        var map: [UInt32: String] = [:]
        for token in packed.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = token.split(separator: ":")
            guard parts.count == 2 else { continue }
            let bounds = parts[0].split(separator: "-").compactMap { UInt32($0, radix: 16) }
            let values = parts[1].split(separator: "+").compactMap { UInt32($0, radix: 16) }
            guard bounds.count == 2, let base = values.first else { continue }
            for v in bounds[0]...bounds[1] {
                map[v] =
                    values.count > 1
                    ? values.map(HTMLEntities.scalarString).joined() : HTMLEntities.scalarString(base + v - bounds[0])
            }
        }
        return map
    }()
}
