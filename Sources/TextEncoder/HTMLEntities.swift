// HTML character references as the three libraries in the official cleaning decode them:
// Python's `html.unescape`, BeautifulSoup's named/numeric reference handling, and ftfy's
// `unescape_html`. All share the HTML5 table in HTMLEntityTable.swift.

import Foundation

enum HTMLEntities {
    /// The HTML5 table: name (with or without ';', as listed) → replacement text.
    static let table: [String: String] = {
        var t: [String: String] = [:]
        t.reserveCapacity(2300)
        for entry in HTMLEntityTable.packed.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            guard let eq = entry.firstIndex(of: "=") else { continue }
            var value = String.UnicodeScalarView()
            for hex in entry[entry.index(after: eq)...].split(separator: "+") {
                if let v = UInt32(hex, radix: 16), let s = Unicode.Scalar(v) { value.append(s) }
            }
            t[String(entry[..<eq])] = String(value)
        }
        return t
    }()

    /// BeautifulSoup's `HTML_ENTITY_TO_CHARACTER`: every table name with its ';' removed.
    static let withoutSemicolon: [String: String] = {
        var t: [String: String] = [:]
        for (name, value) in table.sorted(by: { $0.key < $1.key }) {
            let key = name.hasSuffix(";") ? String(name.dropLast()) : name
            if t[key] == nil { t[key] = value }
        }
        return t
    }()

    /// ftfy's `HTML_ENTITIES`: "&name;" for the ';' names, plus all-caps spellings of the
    /// lowercase names that `html.unescape` does not already know.
    static let ftfy: [String: String] = {
        var t: [String: String] = [:]
        for (name, value) in table where name.hasSuffix(";") {
            t["&" + name] = value
            if name == name.lowercased() {
                let upper = "&" + name.uppercased()
                if PythonString.identical(unescape(upper), upper) { t[upper] = value.uppercased() }
            }
        }
        return t
    }()

    /// Python's `html._invalid_charrefs`: numeric references replaced per the HTML5 spec
    /// (0 → U+FFFD, CR, and the Windows-1252 C1 range).
    static let invalidCharrefs: [UInt32: UInt32] = [
        0x00: 0xFFFD, 0x0D: 0x0D, 0x80: 0x20AC, 0x81: 0x81, 0x82: 0x201A, 0x83: 0x0192, 0x84: 0x201E,
        0x85: 0x2026, 0x86: 0x2020, 0x87: 0x2021, 0x88: 0x02C6, 0x89: 0x2030, 0x8A: 0x0160, 0x8B: 0x2039,
        0x8C: 0x0152, 0x8D: 0x8D, 0x8E: 0x017D, 0x8F: 0x8F, 0x90: 0x90, 0x91: 0x2018, 0x92: 0x2019,
        0x93: 0x201C, 0x94: 0x201D, 0x95: 0x2022, 0x96: 0x2013, 0x97: 0x2014, 0x98: 0x02DC, 0x99: 0x2122,
        0x9A: 0x0161, 0x9B: 0x203A, 0x9C: 0x0153, 0x9D: 0x9D, 0x9E: 0x017E, 0x9F: 0x0178,
    ]

    /// Python's `html._invalid_codepoints`: numeric references that decode to nothing.
    static func isInvalidCodepoint(_ v: UInt32) -> Bool {
        switch v {
        case 0x1...0x8, 0xB, 0xE...0x1F, 0x7F...0x9F, 0xFDD0...0xFDEF: return true
        default: return v & 0xFFFE == 0xFFFE && v <= 0x10FFFF
        }
    }

    /// Parses decimal or hex digits; nil when larger than any code point (the caller treats
    /// that as out of range, like Python's unbounded int).
    static func number(_ digits: Substring, radix: Int) -> UInt32? {
        var v: UInt64 = 0
        for c in digits {
            guard let d = c.hexDigitValue, d < radix else { return nil }
            v = v * UInt64(radix) + UInt64(d)
            if v > 0x10FFFF { return UInt32.max }
        }
        return UInt32(v)
    }

    private static let charref = PythonRegex(#"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)"#)

    /// Python's `html.unescape`.
    static func unescape(_ text: String) -> String {
        guard text.unicodeScalars.contains("&") else { return text }
        let ns = text as NSString
        var out = ""
        var last = 0
        var position = 0
        while let m = charref.search(ns, from: position) {
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            out += replaceCharref(ns.substring(with: m.range(at: 1)))
            last = m.range.location + m.range.length
            position = last
        }
        out += ns.substring(from: last)
        return out
    }

    private static func replaceCharref(_ s: String) -> String {
        if s.hasPrefix("#") {
            let body = s.dropFirst()
            let hex = body.first == "x" || body.first == "X"
            var digits = hex ? body.dropFirst() : body
            while digits.last == ";" { digits = digits.dropLast() }
            let num = number(digits, radix: hex ? 16 : 10) ?? UInt32.max
            if let replacement = invalidCharrefs[num] { return scalarString(replacement) }
            if (0xD800...0xDFFF).contains(num) || num > 0x10FFFF { return "\u{FFFD}" }
            if isInvalidCodepoint(num) { return "" }
            return scalarString(num)
        }
        if let v = table[s] { return v }
        // The longest prefix (at least 2 characters) that is a known name.
        let scalars = Array(s.unicodeScalars)
        var x = scalars.count - 1
        while x > 1 {
            let prefix = PythonString.string(scalars[0..<x])
            if let v = table[prefix] { return v + PythonString.string(scalars[x...]) }
            x -= 1
        }
        return "&" + s
    }

    static func scalarString(_ v: UInt32) -> String {
        Unicode.Scalar(v).map { String(Character($0)) } ?? "\u{FFFD}"
    }
}
