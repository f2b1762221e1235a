// `BeautifulSoup(text, features="html.parser").text` as the official caption cleaning calls it:
// a port of CPython 3.11's html.parser tokenizer (bs4 runs it with convert_charrefs=False, then
// feed + close) together with bs4 4.15's tree-builder rules that decide which strings count as
// text: comments, declarations, processing instructions and the contents of script, style,
// template, rt and rp are dropped; CDATA sections are kept; a string of ASCII whitespace
// between two tags collapses to one space (or one newline), except inside pre/textarea.
// Offsets are UTF-16 (NSString); every construct searched for is ASCII, so they agree with
// Python's code-point offsets wherever it matters.

import Foundation

enum HTMLText {
    /// The visible text of `markup`, or `.promptRejected` where html.parser raises.
    static func extract(_ markup: String) throws(TextEncoderError) -> String {
        let parser = HTMLTokenizer()
        try parser.feed(markup)
        try parser.close()
        return parser.text
    }
}

private enum Pattern {
    static let s = PythonClass.spaceChars
    static let interestingNormal = PythonRegex("[&<]")
    static let incomplete = PythonRegex("&[a-zA-Z#]")
    static let entityref = PythonRegex("&([a-zA-Z][-.a-zA-Z0-9]*)[^a-zA-Z0-9]")
    static let charref = PythonRegex("&#([0-9]+|[xX][0-9a-fA-F]+)[^0-9a-fA-F]")
    static let starttagopen = PythonRegex("<[a-zA-Z]")
    static let commentclose = PythonRegex("--[\(s)]*>")
    static let tagfindTolerant = PythonRegex("([a-zA-Z][^\\t\\n\\r\\f />\\x{00}]*)(?:[\(s)]|/(?!>))*")
    static let attrfindTolerant = PythonRegex(
        "((?<=['\"\(s)/])[^\(s)/>][^\(s)/=>]*)([\(s)]*=+[\(s)]*('[^']*'|\"[^\"]*\"|(?!['\"])[^>\(s)]*))?(?:[\(s)]|/(?!>))*"
    )
    static let locateStarttagEnd = PythonRegex(
        "<[a-zA-Z][^\\t\\n\\r\\f />\\x{00}]*"
            + "(?:[\(s)/]*(?:(?<=['\"\(s)/])[^\(s)/>][^\(s)/=>]*"
            + "(?:[\(s)]*=+[\(s)]*(?:'[^']*'|\"[^\"]*\"|(?!['\"])[^>\(s)]*)[\(s)]*)?"
            + "(?:[\(s)]|/(?!>))*)*)?[\(s)]*")
    static let endtagfind = PythonRegex("</[\(s)]*([a-zA-Z][-.a-zA-Z0-9:_]*)[\(s)]*>")
    static let declname = PythonRegex("[a-zA-Z][-_.a-zA-Z0-9]*[\(s)]*")
    static let markedSectionClose = PythonRegex("][\(s)]*][\(s)]*>")
    static let msMarkedSectionClose = PythonRegex("][\(s)]*>")
    static func cdataEnd(_ element: String) -> PythonRegex {
        PythonRegex("(?i)</[\(s)]*\(NSRegularExpression.escapedPattern(for: element))[\(s)]*>")
    }
}

/// bs4's string classes that matter for `.text`.
private enum StringKind { case text, cdata, excluded }

private final class HTMLTokenizer {
    // html.parser state
    private var raw: NSString = ""
    private var cdataElement: String?
    private var interesting = Pattern.interestingNormal
    // bs4 tree-builder state
    private var currentData: [String] = []
    private var openTags: [String] = []
    private var alreadyClosedEmpty: [String] = []
    private var strings: [String] = []

    private static let voidElements: Set<String> = [
        "area", "base", "basefont", "bgsound", "br", "col", "command", "embed", "frame", "hr", "image", "img",
        "input", "isindex", "keygen", "link", "menuitem", "meta", "nextid", "param", "source", "spacer", "track",
        "wbr",
    ]
    private static let stringContainers: Set<String> = ["rt", "rp", "style", "script", "template"]
    private static let preserveWhitespace: Set<String> = ["pre", "textarea"]
    private static let cdataContentElements: Set<String> = ["script", "style"]

    var text: String { strings.joined() }

    func feed(_ data: String) throws(TextEncoderError) {
        raw = (raw as String + data) as NSString
        try goahead(end: false)
    }

    func close() throws(TextEncoderError) {
        try goahead(end: true)
        endData(.text)
    }

    // MARK: html.parser tokenizer

    private func find(_ needle: String, from position: Int) -> Int {
        guard position <= raw.length else { return -1 }
        let r = raw.range(
            of: needle, options: .literal, range: NSRange(location: position, length: raw.length - position))
        return r.location == NSNotFound ? -1 : r.location
    }

    private func startsWith(_ prefix: String, at position: Int) -> Bool {
        let p = prefix as NSString
        guard position + p.length <= raw.length else { return false }
        return raw.substring(with: NSRange(location: position, length: p.length)) == prefix
    }

    private func slice(_ lo: Int, _ hi: Int) -> String {
        let hi = min(hi, raw.length)
        guard lo < hi else { return "" }
        return raw.substring(with: NSRange(location: lo, length: hi - lo))
    }

    private func goahead(end: Bool) throws(TextEncoderError) {
        var i = 0
        let n = raw.length
        while i < n {
            let j: Int
            if let m = interesting.search(raw, from: i) {
                j = m.range.location
            } else {
                if cdataElement != nil { break }
                j = n
            }
            if i < j { handleData(slice(i, j)) }
            i = j
            if i == n { break }
            if startsWith("<", at: i) {
                var k: Int
                if Pattern.starttagopen.match(raw, at: i) != nil {
                    k = try parseStarttag(i)
                } else if startsWith("</", at: i) {
                    k = parseEndtag(i)
                } else if startsWith("<!--", at: i) {
                    k = parseComment(i)
                } else if startsWith("<?", at: i) {
                    k = parsePI(i)
                } else if startsWith("<!", at: i) {
                    k = try parseHTMLDeclaration(i)
                } else if i + 1 < n {
                    handleData("<")
                    k = i + 1
                } else {
                    break
                }
                if k < 0 {
                    if !end { break }
                    k = find(">", from: i + 1)
                    if k < 0 {
                        k = find("<", from: i + 1)
                        if k < 0 { k = i + 1 }
                    } else {
                        k += 1
                    }
                    handleData(slice(i, k))
                }
                i = k
            } else if startsWith("&#", at: i) {
                if let m = Pattern.charref.match(raw, at: i) {
                    handleCharref(raw.substring(with: m.range(at: 1)))
                    i = afterReference(m)
                    continue
                }
                if find(";", from: i) >= 0 {
                    handleData(slice(i, i + 2))
                    i += 2
                }
                break
            } else if startsWith("&", at: i) {
                if let m = Pattern.entityref.match(raw, at: i) {
                    handleEntityref(raw.substring(with: m.range(at: 1)))
                    i = afterReference(m)
                    continue
                }
                if let m = Pattern.incomplete.match(raw, at: i) {
                    if end, m.range.location + m.range.length == n { i += 1 }
                    break
                } else if i + 1 < n {
                    handleData("&")
                    i += 1
                } else {
                    break
                }
            } else {
                break  // unreachable: `interesting` only stops at '<' or '&'
            }
        }
        if end, i < n, cdataElement == nil {
            handleData(slice(i, n))
            i = n
        }
        raw = raw.substring(from: i) as NSString
    }

    /// Where parsing resumes after a character reference: past its ';', or at the character
    /// that ended it (the regex consumed one code point, which may be two UTF-16 units).
    private func afterReference(_ m: NSTextCheckingResult) -> Int {
        let nameEnd = m.range(at: 1).location + m.range(at: 1).length
        return startsWith(";", at: nameEnd) ? nameEnd + 1 : nameEnd
    }

    private func parseStarttag(_ i: Int) throws(TextEncoderError) -> Int {
        let endpos = checkForWholeStartTag(i)
        if endpos < 0 { return endpos }
        guard let nameMatch = Pattern.tagfindTolerant.match(raw, at: i + 1) else {
            throw .promptRejected(excerpt: slice(i, i + 20), reason: "unexpected call to parse_starttag()")
        }
        var k = nameMatch.range.location + nameMatch.range.length
        let tag = PythonString.lower(raw.substring(with: nameMatch.range(at: 1)))
        while k < endpos {
            guard let m = Pattern.attrfindTolerant.match(raw, at: k) else { break }
            k = m.range.location + m.range.length
        }
        let rest = PythonString.strip(slice(k, endpos))
        if rest != ">" && rest != "/>" {
            handleData(slice(i, endpos))
            return endpos
        }
        if rest == "/>" {
            handleStartendtag(tag)
        } else {
            handleStarttag(tag, emptyElementCloses: true)
            if Self.cdataContentElements.contains(tag) {
                cdataElement = tag
                interesting = Pattern.cdataEnd(tag)
            }
        }
        return endpos
    }

    private func checkForWholeStartTag(_ i: Int) -> Int {
        guard let m = Pattern.locateStarttagEnd.match(raw, at: i) else { return i + 1 }
        let j = m.range.location + m.range.length
        let next = slice(j, j + 1)
        if next == ">" { return j + 1 }
        if next == "/" {
            if startsWith("/>", at: j) { return j + 2 }
            return -1  // "/" at the end of the buffer
        }
        if next == "" { return -1 }
        if next.count == 1, let c = next.unicodeScalars.first, c.isASCII,
            (c.properties.isAlphabetic || c == "=" || c == "/")
        {
            return -1
        }
        return j > i ? j : i + 1
    }

    private func parseEndtag(_ i: Int) -> Int {
        let gt = find(">", from: i + 1)
        if gt < 0 { return -1 }
        var gtpos = gt + 1
        guard let m = Pattern.endtagfind.match(raw, at: i) else {
            if cdataElement != nil {
                handleData(slice(i, gtpos))
                return gtpos
            }
            guard let nameMatch = Pattern.tagfindTolerant.match(raw, at: i + 2) else {
                if startsWith("</>", at: i) { return i + 3 }
                return parseBogusComment(i)
            }
            let name = PythonString.lower(raw.substring(with: nameMatch.range(at: 1)))
            gtpos = find(">", from: nameMatch.range.location + nameMatch.range.length)
            handleEndtag(name, checkAlreadyClosed: true)
            return gtpos + 1
        }
        let element = PythonString.lower(raw.substring(with: m.range(at: 1)))
        if let cdata = cdataElement, element != cdata {
            handleData(slice(i, gtpos))
            return gtpos
        }
        handleEndtag(element, checkAlreadyClosed: true)
        cdataElement = nil
        interesting = Pattern.interestingNormal
        return gtpos
    }

    private func parseComment(_ i: Int) -> Int {
        guard let m = Pattern.commentclose.search(raw, from: i + 4) else { return -1 }
        handleSpecialString(slice(i + 4, m.range.location), kind: .excluded)
        return m.range.location + m.range.length
    }

    private func parsePI(_ i: Int) -> Int {
        let gt = find(">", from: i + 2)
        if gt < 0 { return -1 }
        handleSpecialString(slice(i + 2, gt), kind: .excluded)
        return gt + 1
    }

    private func parseBogusComment(_ i: Int) -> Int {
        let gt = find(">", from: i + 2)
        if gt < 0 { return -1 }
        handleSpecialString(slice(i + 2, gt), kind: .excluded)
        return gt + 1
    }

    private func parseHTMLDeclaration(_ i: Int) throws(TextEncoderError) -> Int {
        if startsWith("<!--", at: i) { return parseComment(i) }
        if startsWith("<![", at: i) { return try parseMarkedSection(i) }
        if PythonString.lower(slice(i, i + 9)) == "<!doctype" {
            let gt = find(">", from: i + 9)
            if gt < 0 { return -1 }
            handleSpecialString(slice(i + 2, gt), kind: .excluded)
            return gt + 1
        }
        return parseBogusComment(i)
    }

    private func parseMarkedSection(_ i: Int) throws(TextEncoderError) -> Int {
        let n = raw.length
        if i + 3 == n { return -1 }
        guard let m = Pattern.declname.match(raw, at: i + 3) else {
            throw .promptRejected(excerpt: slice(i, i + 20), reason: "expected name token in marked section")
        }
        if m.range.location + m.range.length == n { return -1 }
        let name = PythonString.lower(PythonString.strip(raw.substring(with: m.range)))
        let close: NSTextCheckingResult?
        if ["temp", "cdata", "ignore", "include", "rcdata"].contains(name) {
            close = Pattern.markedSectionClose.search(raw, from: i + 3)
        } else if ["if", "else", "endif"].contains(name) {
            close = Pattern.msMarkedSectionClose.search(raw, from: i + 3)
        } else {
            throw .promptRejected(
                excerpt: slice(i, i + 20), reason: "unknown status keyword '\(name)' in marked section")
        }
        guard let close else { return -1 }
        let data = slice(i + 3, close.range.location)
        if data.uppercased().hasPrefix("CDATA[") {
            handleSpecialString(String(data.unicodeScalars.dropFirst(6)), kind: .cdata)
        } else {
            handleSpecialString(data, kind: .excluded)
        }
        return close.range.location + close.range.length
    }

    // MARK: bs4 handlers

    private func handleCharref(_ name: String) {
        let hex = name.hasPrefix("x") || name.hasPrefix("X")
        let digits = hex ? name.dropFirst() : Substring(name)
        let v = HTMLEntities.number(digits, radix: hex ? 16 : 10) ?? UInt32.max
        if v == 0 || v > 0x10FFFF || (0xD800...0xDFFF).contains(v) {
            handleData("\u{FFFD}")
        } else if (0x80...0x9F).contains(v), let mapped = HTMLEntities.invalidCharrefs[v] {
            handleData(HTMLEntities.scalarString(mapped))
        } else {
            handleData(HTMLEntities.scalarString(v))
        }
    }

    private func handleEntityref(_ name: String) {
        handleData(HTMLEntities.withoutSemicolon[name] ?? "&" + name)
    }

    private func handleData(_ data: String) { currentData.append(data) }

    private func handleStarttag(_ tag: String, emptyElementCloses: Bool) {
        endData(.text)
        openTags.append(tag)
        if emptyElementCloses, Self.voidElements.contains(tag) {
            handleEndtag(tag, checkAlreadyClosed: false)
            alreadyClosedEmpty.append(tag)
        }
    }

    private func handleStartendtag(_ tag: String) {
        handleStarttag(tag, emptyElementCloses: false)
        handleEndtag(tag, checkAlreadyClosed: false)
    }

    private func handleEndtag(_ tag: String, checkAlreadyClosed: Bool) {
        if checkAlreadyClosed, let index = alreadyClosedEmpty.firstIndex(of: tag) {
            alreadyClosedEmpty.remove(at: index)
            return
        }
        endData(.text)
        if let index = openTags.lastIndex(of: tag) { openTags.removeSubrange(index...) }
    }

    /// A comment, declaration, processing instruction or CDATA section: its own string.
    private func handleSpecialString(_ data: String, kind: StringKind) {
        endData(.text)
        handleData(data)
        endData(kind)
    }

    /// bs4's `endData`: closes the current run of character data as one string.
    private func endData(_ kind: StringKind) {
        guard !currentData.isEmpty else { return }
        var data = currentData.joined()
        currentData = []
        if !openTags.contains(where: Self.preserveWhitespace.contains),
            data.unicodeScalars.allSatisfy({ " \n\t\u{0C}\r".unicodeScalars.contains($0) })
        {
            data = data.unicodeScalars.contains("\n") ? "\n" : " "
        }
        // Strings inside script/style/template/rt/rp get their own (non-text) classes.
        let inContainer = openTags.contains(where: Self.stringContainers.contains)
        if kind == .cdata || (kind == .text && !inContainer) { strings.append(data) }
    }
}
