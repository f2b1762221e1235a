// Python `str` and `re` semantics that the official prompt cleaning depends on, for Swift
// strings: whitespace (`str.isspace`), `strip`, `lower` (with the final-sigma rule), and
// regular expressions with `re.sub` behaviour on ICU (NSRegularExpression), using character
// classes spelled out to match Python's Unicode `\w`, `\d`, `\s` and `\b` exactly.

import Foundation

enum PythonString {
    /// `str.isspace()` for one code point (CPython: bidirectional WS/B/S or category Zs).
    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// `str.strip()`: removes leading and trailing `isspace` code points.
    static func strip(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var lo = 0, hi = scalars.count
        while lo < hi, isSpace(scalars[lo]) { lo += 1 }
        while hi > lo, isSpace(scalars[hi - 1]) { hi -= 1 }
        if lo == 0, hi == scalars.count { return text }
        return string(scalars[lo..<hi])
    }

    /// `str.lower()`: full lowercase mapping per code point, with U+03A3 becoming final sigma
    /// (U+03C2) after a cased letter and not before one (case-ignorable code points skipped).
    static func lower(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        for (i, s) in scalars.enumerated() {
            if s.value == 0x3A3 {
                out.append(Unicode.Scalar(isFinalSigma(scalars, at: i) ? 0x3C2 : 0x3C3) ?? s)
            } else if s.isASCII {
                out.append(s.value >= 0x41 && s.value <= 0x5A ? Unicode.Scalar(UInt8(s.value + 32)) : s)
            } else {
                out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return String(out)
    }

    private static func isFinalSigma(_ scalars: [Unicode.Scalar], at i: Int) -> Bool {
        var j = i - 1
        while j >= 0, scalars[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0, scalars[j].properties.isCased else { return false }
        j = i + 1
        while j < scalars.count, scalars[j].properties.isCaseIgnorable { j += 1 }
        return j == scalars.count || !scalars[j].properties.isCased
    }

    /// A string from a slice of code points (never normalised).
    static func string<C: Collection>(_ scalars: C) -> String where C.Element == Unicode.Scalar {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// Code-point equality (Swift's `==` on String compares canonical equivalence instead).
    static func identical(_ a: String, _ b: String) -> Bool { a.unicodeScalars.elementsEqual(b.unicodeScalars) }
}

/// ICU spellings of Python's Unicode character classes (CPython: `\w` is `isalnum() or "_"`,
/// which is exactly categories L* and N* plus "_"; `\d` is category Nd; `\s` is `isspace()`).
enum PythonClass {
    static let wordChars = #"\p{L}\p{N}_"#
    static let word = "[\(wordChars)]"
    static let digit = #"\p{Nd}"#
    static let nonDigit = #"\P{Nd}"#
    static let spaceChars = #"\t\n\x{0B}\f\r\x{1C}-\x{1F}\x{85}\p{Z}"#
    static let space = "[\(spaceChars)]"
    static let nonSpace = "[^\(spaceChars)]"
    /// `\b`: a transition between a word and a non-word code point.
    static let boundary = "(?:(?<=\(word))(?!\(word))|(?<!\(word))(?=\(word)))"
    /// `$` without MULTILINE: the end, or just before a final "\n".
    static let end = #"(?=\n?\z)"#
}

/// A regular expression with Python `re` semantics over code points. Patterns are ICU syntax
/// written with `PythonClass` for every Unicode-dependent class.
struct PythonRegex: @unchecked Sendable {
    let regex: NSRegularExpression
    let pattern: String

    init(_ pattern: String) {
        self.pattern = pattern
        do {
            regex = try NSRegularExpression(pattern: pattern, options: [])
        } catch {
            fatalError("built-in regular expression does not compile: \(pattern): \(error)")
        }
    }

    /// `re.sub(pattern, template, text)`; the template uses ICU's `$1` for groups.
    func sub(_ template: String, _ text: String) -> String {
        let ns = text as NSString
        return regex.stringByReplacingMatches(
            in: text, options: [.withTransparentBounds, .withoutAnchoringBounds],
            range: NSRange(location: 0, length: ns.length), withTemplate: template)
    }

    /// `len(re.findall(pattern, text))`.
    func count(_ text: String) -> Int {
        regex.numberOfMatches(
            in: text, options: [.withTransparentBounds, .withoutAnchoringBounds],
            range: NSRange(location: 0, length: (text as NSString).length))
    }

    /// `pattern.match(text, pos)`: a match starting exactly at UTF-16 offset `position`.
    func match(_ text: NSString, at position: Int) -> NSTextCheckingResult? {
        guard position <= text.length else { return nil }
        return regex.firstMatch(
            in: text as String, options: [.anchored, .withTransparentBounds, .withoutAnchoringBounds],
            range: NSRange(location: position, length: text.length - position))
    }

    /// `pattern.search(text, pos)`: the first match at or after UTF-16 offset `position`.
    func search(_ text: NSString, from position: Int) -> NSTextCheckingResult? {
        guard position <= text.length else { return nil }
        return regex.firstMatch(
            in: text as String, options: [.withTransparentBounds, .withoutAnchoringBounds],
            range: NSRange(location: position, length: text.length - position))
    }
}
