// The official prompt preprocessing of the text-to-video pipeline: LattePipeline's
// `_text_preprocessing` (clean_caption=True, the sample script's default), which applies
// DeepFloyd-IF's `_clean_caption` twice. Each step below is one statement of that routine, in
// order, with Python's regex semantics (see PythonText.swift); BeautifulSoup is HTMLText.swift,
// ftfy is TextFixer.swift (without its mojibake repair).

import Foundation

/// How a prompt is preprocessed before tokenization.
public enum PromptPreprocessing: String, Sendable, Codable, CaseIterable {
    /// `_clean_caption` applied twice (the official default, with bs4 and ftfy installed).
    case cleanCaption = "clean"
    /// `text.lower().strip()` (the official path when clean_caption is off or unavailable).
    case lowercase
    /// The text as given.
    case none

    /// Applies this preprocessing to one prompt.
    public func apply(_ text: String) throws(TextEncoderError) -> String {
        switch self {
        case .cleanCaption: return try CaptionCleaner.clean(CaptionCleaner.clean(text))
        case .lowercase: return PythonString.strip(PythonString.lower(text))
        case .none: return text
        }
    }
}

/// DeepFloyd-IF's `_clean_caption` (as copied into the Skip-DiT LattePipeline).
public enum CaptionCleaner {
    /// One pass of the cleaning routine. Throws only where the official HTML parser raises.
    public static func clean(_ caption: String) throws(TextEncoderError) -> String {
        var c = unquotePlus(caption)
        c = PythonString.lower(PythonString.strip(c))
        c = person.sub("person", c)
        c = url1.sub("", c)
        c = url2.sub("", c)
        c = try HTMLText.extract(c)
        c = nickname.sub("", c)
        c = TextFixer.mapScalars(c) { isRemovedCJK($0.value) ? "" : nil }
        c = dashes.sub("-", c)
        c = TextFixer.mapScalars(c) { s in
            switch s {
            case "`", "\u{B4}", "\u{AB}", "\u{BB}", "\u{201C}", "\u{201D}", "\u{A8}": return "\""
            case "\u{2018}", "\u{2019}": return "'"
            default: return nil
            }
        }
        c = quotEntity.sub("", c)
        c = ampEntity.sub("", c)
        c = ipAddress.sub(" ", c)
        c = articleID.sub("", c)
        c = escapedNewline.sub(" ", c)
        c = hashShort.sub("", c)
        c = hashLong.sub("", c)
        c = longNumber.sub("", c)
        c = fileName.sub("", c)
        c = repeatedQuotes.sub("\"", c)
        c = repeatedDots.sub(" ", c)
        c = badPunctuation.sub(" ", c)
        c = spacedDot.sub(" ", c)
        if dashOrUnderscore.count(c) > 3 { c = dashOrUnderscore.sub(" ", c) }
        c = TextFixer.fixText(c)
        c = HTMLEntities.unescape(HTMLEntities.unescape(c))
        c = shortAlphanumericID.sub("", c)
        c = letterDigitLetterID.sub("", c)
        c = digitLetterDigitID.sub("", c)
        c = shipping.sub("", c)
        c = download.sub("", c)
        c = clickFor.sub("", c)
        c = imageFormatWord.sub("", c)
        c = pageNumber.sub("", c)
        c = mixedCode.sub(" ", c)
        c = dimensions.sub("", c)
        c = spacedColon.sub(": ", c)
        c = punctuationBeforeWord.sub("$1 ", c)
        c = whitespaceRun.sub(" ", c)
        c = surroundingQuotes.sub("$1", c)
        c = leadingPunctuation.sub("", c)
        c = trailingPunctuation.sub("", c)
        c = dotWord.sub("", c)
        return PythonString.strip(c)
    }

    /// `urllib.parse.unquote_plus`: '+' → ' ', then %XX escapes inside each ASCII run decoded
    /// as UTF-8 with invalid sequences replaced by U+FFFD; a '%' not followed by two hex digits
    /// stays literal.
    public static func unquotePlus(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars).map { $0 == "+" ? " " : $0 }
        guard scalars.contains("%") else { return PythonString.string(scalars) }
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            guard scalars[i].isASCII else {
                out.append(scalars[i])
                i += 1
                continue
            }
            var bytes: [UInt8] = []
            while i < scalars.count, scalars[i].isASCII {
                if scalars[i] == "%", i + 2 < scalars.count, let hi = hexValue(scalars[i + 1]),
                    let lo = hexValue(scalars[i + 2])
                {
                    bytes.append(UInt8(hi * 16 + lo))
                    i += 3
                } else {
                    bytes.append(UInt8(scalars[i].value))
                    i += 1
                }
            }
            out.append(contentsOf: String(decoding: bytes, as: UTF8.self).unicodeScalars)
        }
        return String(out)
    }

    private static func hexValue(_ s: Unicode.Scalar) -> Int? {
        switch s.value {
        case 0x30...0x39: return Int(s.value - 0x30)
        case 0x41...0x46: return Int(s.value - 0x41 + 10)
        case 0x61...0x66: return Int(s.value - 0x61 + 10)
        default: return nil
        }
    }

    /// The CJK blocks the routine deletes (strokes, katakana phonetic extensions, enclosed CJK,
    /// CJK compatibility, extension A, Yijing hexagrams, unified ideographs).
    static func isRemovedCJK(_ v: UInt32) -> Bool {
        switch v {
        case 0x31C0...0x31EF, 0x31F0...0x31FF, 0x3200...0x32FF, 0x3300...0x33FF, 0x3400...0x4DBF, 0x4DC0...0x4DFF,
            0x4E00...0x9FFF:
            return true
        default:
            return false
        }
    }

    // The routine's regular expressions, in the Python classes of PythonClass.
    private static let w = PythonClass.word, wc = PythonClass.wordChars, d = PythonClass.digit
    private static let s = PythonClass.space, b = PythonClass.boundary, end = PythonClass.end

    private static let person = PythonRegex("<person>")
    private static let url1 = PythonRegex(
        "\(b)((?:https?:(?:/{1,3}|[a-zA-Z0-9%])|[a-zA-Z0-9.\\-]+[.](?:com|co|ru|net|org|edu|gov|it)[\(wc)/\\-]*\(b)/?(?!@)))"
    )
    private static let url2 = PythonRegex(
        "\(b)((?:www:(?:/{1,3}|[a-zA-Z0-9%])|[a-zA-Z0-9.\\-]+[.](?:com|co|ru|net|org|edu|gov|it)[\(wc)/\\-]*\(b)/?(?!@)))"
    )
    private static let nickname = PythonRegex("@\(w)+\(b)")
    private static let dashes = PythonRegex(
        #"[\x{2D}\x{58A}\x{5BE}\x{1400}\x{1806}\x{2010}-\x{2015}\x{2E17}\x{2E1A}\x{2E3A}\x{2E3B}\x{2E40}\x{301C}\x{3030}\x{30A0}\x{FE31}\x{FE32}\x{FE58}\x{FE63}\x{FF0D}]+"#
    )
    private static let quotEntity = PythonRegex("&quot;?")
    private static let ampEntity = PythonRegex("&amp")
    private static let ipAddress = PythonRegex("\(d){1,3}\\.\(d){1,3}\\.\(d){1,3}\\.\(d){1,3}")
    private static let articleID = PythonRegex("\(d):\(d)\(d)\(s)+\(end)")
    private static let escapedNewline = PythonRegex(#"\\n"#)
    private static let hashShort = PythonRegex("#\(d){1,3}\(b)")
    private static let hashLong = PythonRegex("#\(d){5,}\(b)")
    private static let longNumber = PythonRegex("\(b)\(d){6,}\(b)")
    private static let fileName = PythonRegex("\(PythonClass.nonSpace)+\\.(?:png|jpg|jpeg|bmp|webp|eps|pdf|apk|mp4)")
    private static let repeatedQuotes = PythonRegex(#"["']{2,}"#)
    private static let repeatedDots = PythonRegex(#"[.]{2,}"#)
    private static let badPunctuation = PythonRegex(#"[#®•©™\&@·º½¾¿¡§~\)\(\]\[\}\{\|\\/\*]+"#)
    private static let spacedDot = PythonRegex("\(s)+\\.\(s)+")
    private static let dashOrUnderscore = PythonRegex(#"(?:-|_)"#)
    private static let shortAlphanumericID = PythonRegex("\(b)[a-zA-Z]{1,3}\(d){3,15}\(b)")
    private static let letterDigitLetterID = PythonRegex("\(b)[a-zA-Z]+\(d)+[a-zA-Z]+\(b)")
    private static let digitLetterDigitID = PythonRegex("\(b)\(d)+[a-zA-Z]+\(d)+\(b)")
    private static let shipping = PythonRegex("(worldwide\(s)+)?(free\(s)+)?shipping")
    private static let download = PythonRegex("(free\(s))?download(\(s)free)?")
    private static let clickFor = PythonRegex("\(b)click\(b)\(s)(?:for|on)\(s)\(w)+")
    private static let imageFormatWord = PythonRegex("\(b)(?:png|jpg|jpeg|bmp|webp|eps|pdf|apk|mp4)(\(s)image[s]?)?")
    private static let pageNumber = PythonRegex("\(b)page\(s)+\(d)+\(b)")
    private static let mixedCode = PythonRegex("\(b)\(d)*[a-zA-Z]+\(d)+[a-zA-Z]+\(d)+[a-zA-Z\(d)]*\(b)")
    private static let dimensions = PythonRegex("\(b)\(d)+\\.?\(d)*[x\u{445}\u{D7}]\(d)+\\.?\(d)*\(b)")
    private static let spacedColon = PythonRegex("\(b)\(s)+:\(s)+")
    private static let punctuationBeforeWord = PythonRegex("(\(PythonClass.nonDigit)[,./])\(b)")
    private static let whitespaceRun = PythonRegex("\(s)+")
    private static let surroundingQuotes = PythonRegex(#"^["']([\x{0}-\x{10FFFF}]+)["']"# + end)
    private static let leadingPunctuation = PythonRegex(#"^['_,\-:;]"#)
    private static let trailingPunctuation = PythonRegex(#"['_,\-:+]"# + end)
    private static let dotWord = PythonRegex("^\\.\(PythonClass.nonSpace)+\(end)")
}
