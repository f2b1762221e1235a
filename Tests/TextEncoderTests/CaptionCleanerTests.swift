// Prompt cleaning against the official routine. Every (raw, one pass, two passes) triple below
// was produced by the Skip-DiT LattePipeline `_clean_caption` itself (ftfy 6.3.1, beautifulsoup4
// 4.15.0, CPython 3.11.7 html.parser): curated inputs for each rule, fuzz strings built from
// fragments that exercise the regexes, the HTML parser and ftfy, and mojibake (UTF-8 text
// decoded with the charmaps ftfy knows, partly mixed with good text). Larger runs of the same
// generators (20,000 fuzz strings, 4,000 mojibake strings) matched exactly as well.

import Foundation
import TextEncoder
import XCTest

final class CaptionCleanerTests: XCTestCase {
    func testMatchesOfficialRoutine() throws {
        var failures = 0
        for (raw, once, twice) in Self.official {
            let one = try CaptionCleaner.clean(raw)
            let two = try PromptPreprocessing.cleanCaption.apply(raw)
            if !same(one, once) || !same(two, twice) {
                failures += 1
                XCTFail(
                    "clean(\(raw.debugDescription)): got \(one.debugDescription) / \(two.debugDescription), expected \(once.debugDescription) / \(twice.debugDescription)"
                )
            }
        }
        XCTAssertEqual(failures, 0)
        XCTAssertGreaterThan(Self.official.count, 200)
    }

    func testRejectsWhatTheOfficialParserRejects() {
        for raw in ["a <![foo[x]]> b", "a <![ b", "<![1abc"] {
            XCTAssertThrowsError(try CaptionCleaner.clean(raw), raw) { error in
                guard case TextEncoderError.promptRejected = error else { return XCTFail("\(error)") }
            }
        }
    }

    func testLowercaseAndNonePreprocessing() throws {
        XCTAssertEqual(try PromptPreprocessing.lowercase.apply("  A Cat\u{A0}"), "a cat")
        XCTAssertEqual(try PromptPreprocessing.lowercase.apply("ΟΔΟΣ"), "οδος")
        XCTAssertEqual(try PromptPreprocessing.none.apply("  A Cat "), "  A Cat ")
    }

    func testUnquotePlus() {
        XCTAssertEqual(CaptionCleaner.unquotePlus("a+b%20c"), "a b c")
        XCTAssertEqual(CaptionCleaner.unquotePlus("%C3%A9t%C3%A9"), "été")
        XCTAssertEqual(CaptionCleaner.unquotePlus("100% %zz %4"), "100% %zz %4")
        XCTAssertEqual(CaptionCleaner.unquotePlus("%C3"), "\u{FFFD}")
        XCTAssertEqual(CaptionCleaner.unquotePlus("é%41"), "éA")
    }

    private func same(_ a: String, _ b: String) -> Bool { a.unicodeScalars.elementsEqual(b.unicodeScalars) }

    /// (raw, `_clean_caption(raw)`, `_clean_caption(_clean_caption(raw))`) from the official code.
    static let official: [(String, String, String)] = [
        (
            "A cat sleeping on a sunny windowsill.", "a cat sleeping on a sunny windowsill.",
            "a cat sleeping on a sunny windowsill."
        ),
        ("  Two DOGS  playing\tin the\nsnow  ", "two dogs playing in the snow", "two dogs playing in the snow"),
        ("", "", ""),
        ("Visit https://example.com/page?x=1 or www.site.org/about now", "visit ?x=1 or now", "visit ?x=1 or now"),
        ("email me at john@example.com please", "email me at john please", "email me at john please"),
        ("http://foo.bar/baz.html and https://t.co/xyz", "foo. bar baz. html and", "foo. bar baz. html and"),
        ("check out google.com and yandex.ru/maps!", "check out and !", "check out and !"),
        ("hello%20world+and%2Bplus", "hello world and+plus", "hello world and plus"),
        ("bad %zz escape and %4 and 100%", "bad %zz escape and %4 and 100%", "bad %zz escape and %4 and 100%"),
        ("%E2%9C%93 check %C3%A9t%C3%A9", "✓ check été", "✓ check été"),
        ("%C3 lone byte", "\u{FFFD} lone byte", "\u{FFFD} lone byte"),
        ("<b>bold</b> and <i>italic</i> text", "bold and italic text", "bold and italic text"),
        ("a <b", "a <b", "a <b"),
        ("a < b > c", "a < b > c", "a < b > c"),
        ("<3 you", "<3 you", "<3 you"),
        ("x&y", "xy", "xy"),
        ("AT&T &amp; co", "at t co", "at t co"),
        (
            "&copy; 2024 &hellip; &eacute;t&eacute; &#233; &#x27;quoted&#x27; &#150; dash",
            "2024 … été é 'quoted' - dash", "2024 … été é 'quoted' - dash"
        ),
        ("&nbsp;spaced&nbsp;out", "spaced out", "spaced out"),
        ("<script>alert(1)</script>visible<style>p{}</style>text", "visibletext", "visibletext"),
        ("<!-- comment -->after", "after", "after"),
        ("<!DOCTYPE html>doc", "doc", "doc"),
        ("<![CDATA[cdata text]]> tail", "cdata text tail", "cdata text tail"),
        ("<p>one<p>two</p>three", "onetwothree", "onetwothree"),
        ("a<br/>b<br>c", "abc", "abc"),
        ("<a href=\"x>y\">link</a> end", "link end", "link end"),
        ("<person> walking with <person>", "person walking with person", "person walking with person"),
        ("@nick says hi to @other_user123", "says hi to", "says hi to"),
        ("日本の桜と富士山 sakura", "のと sakura", "のと sakura"),
        ("ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ！", "fullwidth text!", "fullwidth text!"),
        ("ﬁne ﬂowers ﬀ ﬃ", "fine flowers ff ffi", "fine flowers ff ffi"),
        (
            "curly “double” and ‘single’ quotes « guillemets » `back´",
            "curly \"double\" and 'single' quotes \" guillemets \" \"back\"",
            "curly \"double\" and 'single' quotes \" guillemets \" \"back\""
        ),
        (
            "em—dash en–dash ‐ hyphen − minus ― bar", "em dash en dash hyphen − minus bar",
            "em dash en dash hyphen − minus bar"
        ),
        ("server 192.168.0.1 down", "server down", "server down"),
        ("article 1:23   ", "article 1:23", "article 1:23"),
        ("line one\\nline two", "line one line two", "line one line two"),
        ("#1 best #12345 tag #1234 #99", "best tag 1234", "best tag 1234"),
        ("number 1234567 and 12345", "number and 12345", "number and 12345"),
        ("photo.jpg and image.PNG and doc.pdf file", "and and file", "and and file"),
        ("\"\"\"AUSVERKAUFT\"\"\"", "ausverkauft", "ausverkauft"),
        ("wait... what....", "wait what", "wait what"),
        (
            "***SALE*** #hashtag [brackets] {braces} (parens) | pipe \\ back / slash",
            "sale hashtag brackets braces parens pipe back slash", "sale hashtag brackets braces parens pipe back slash"
        ),
        ("a . b . c", "a b c", "a b c"),
        ("this_is_my_cute_cat-video-clip", "this is my cute cat video clip", "this is my cute cat video clip"),
        ("snake_case_name", "snake_case_name", "snake_case_name"),
        ("a-b-c-d-e", "a b c d e", "a b c d e"),
        ("jc6640 and jc6640vc and 6640vc231 ids", "and and ids", "and and ids"),
        ("worldwide free shipping today", "today", "today"),
        ("free download free now", "now", "now"),
        ("click for more and click on here", "and", "and"),
        ("png images and jpg image", "and", "and"),
        ("see page 3 for details", "see for details", "see for details"),
        ("j2d1a2a code", "code", "code"),
        ("size 1920x1080 and 3.5×2.5 and 2х3", "size and and", "size and and"),
        ("time : now", "time: now", "time: now"),
        ("a cat.a dog,a bird/a fish", "a cat. a dog, a bird a fish", "a cat. a dog, a bird a fish"),
        ("1,000 and 2.5/3", "1,000 and 2.5 3", "1,000 and 2.5 3"),
        ("\"a quoted prompt\"", "a quoted prompt", "a quoted prompt"),
        ("'single quoted'", "single quoted", "single quoted"),
        ("- leading dash", "leading dash", "leading dash"),
        ("trailing comma,", "trailing comma", "trailing comma"),
        ("trailing plus+", "trailing plus", "trailing plus"),
        (".hidden", "", ""),
        (".file.txt", ".file. txt", ".file. txt"),
        ("ΟΔΟΣ ΣΟΦΟΣ Σ", "οδος σοφος σ", "οδος σοφος σ"),
        ("İstanbul ǅemal", "i̇stanbul džemal", "i̇stanbul džemal"),
        ("Ǳ ǲ ǳ", "dz dz dz", "dz dz dz"),
        ("Straße", "straße", "straße"),
        ("tab\there", "tab here", "tab here"),
        ("\u{85}next line", "next line", "next line"),
        ("\u{2028}sep\u{2029}para", "sep para", "sep para"),
        ("ctrl\u{7}bell\u{1B}[31mred\u{1B}[0m", "ctrlbell 31mred 0m", "ctrlbell 31mred 0m"),
        ("\u{FEFF}bom start", "bom start", "bom start"),
        ("mixed\r\nline\rbreaks", "mixed line breaks", "mixed line breaks"),
        ("emoji 🚀🔥 and ❤️", "emoji 🚀🔥 and ❤️", "emoji 🚀🔥 and ❤️"),
        ("zero\u{200B}width", "zero\u{200B}width", "zero\u{200B}width"),
        ("&quot;quoted&quot; and &amp stuff", "\"quoted\" and stuff", "\"quoted\" and stuff"),
        ("&lt;tag&gt; escaped", "<tag> escaped", "escaped"),
        ("&amp;lt;double&amp;gt;", "lt;double gt;", "lt;double gt;"),
        ("&#0; &#xD800; &#1114112;", "\u{FFFD} \u{FFFD} \u{FFFD}", "\u{FFFD} \u{FFFD} \u{FFFD}"),
        ("&foo.bar; unknown &zz; entity", "foo. bar unknown zz entity", "foo. bar unknown zz entity"),
        ("&#65a bad charref; then &amp;", "65a bad charref; then", "65a bad charref; then"),
        ("tom & jerry & friends", "tom jerry friends", "tom jerry friends"),
        ("a&b&c", "a bc", "a bc"),
        ("AT&T's", "at t's", "at t's"),
        ("<![if x]>k<![endif]>", "k", "k"),
        ("<?php echo 1 ?>code", "code", "code"),
        ("</p>stray end", "stray end", "stray end"),
        ("a </ b> c", "a c", "a c"),
        ("a</", "a<", "a<"),
        ("<a title=\"x>t", "<a title=\"x>t", "<a title=\"x>t"),
        ("&amp", "", ""),
        ("x &#123", "x", "x"),
        ("<template>t<b>w</b></template>after", "after", "after"),
        ("<pre>  </pre>x", "x", "x"),
        ("a<b>  \n </b>c", "a c", "a c"),
        ("<textarea>  </textarea>y", "y", "y"),
        ("½ and ¾ and ㎏ and ℃", "and and and ℃", "and and and ℃"),
        ("Café über naïve résumé", "café über naïve résumé", "café über naïve résumé"),
        ("é combining accent", "é combining accent", "é combining accent"),
        ("Ⅻ roman ⅻ", "ⅻ roman ⅻ", "ⅻ roman ⅻ"),
        ("①②③ circled", "①②③ circled", "①②③ circled"),
        ("ǈudi and ŉ", "ljudi and 'n", "ljudi and 'n"),
        ("x²+y³", "x² y³", "x² y³"),
        ("ｶﾀｶﾅ halfwidth", "カタカナ halfwidth", "カタカナ halfwidth"),
        ("한국어 텍스트", "한국어 텍스트", "한국어 텍스트"),
        ("Привет мир", "привет мир", "привет мир"),
        ("مرحبا", "مرحبا", "مرحبا"),
        ("שלום", "שלום", "שלום"),
        ("UPPER lower MiXeD", "upper lower mixed", "upper lower mixed"),
        ("a\u{A0}non\u{A0}breaking", "a non breaking", "a non breaking"),
        ("multiple     spaces here", "multiple spaces here", "multiple spaces here"),
        ("ends with colon:", "ends with colon", "ends with colon"),
        ("ends with underscore_", "ends with underscore", "ends with underscore"),
        ("'_,-:; leading", "_,-:; leading", ",-:; leading"),
        ("\"quote at start only", "\"quote at start only", "\"quote at start only"),
        ("100% pure", "100% pure", "100% pure"),
        ("price $9.99 only", "price $9.99 only", "price $9.99 only"),
        ("under_score-dash_mix", "under_score-dash_mix", "under_score-dash_mix"),
        ("--double--dash", "double-dash", "double-dash"),
        ("3d render, 8k, hdr, 4k uhd", "3d render, 8k, hdr, 4k uhd", "3d render, 8k, hdr, 4k uhd"),
        ("a2b", "", ""),
        ("abc123def456", "", ""),
        ("in 2024, a 10x zoom", "in 2024, a 10x zoom", "in 2024, a 10x zoom"),
        ("mp4 video of a cat", "video of a cat", "video of a cat"),
        ("a file named cat.mp4 here", "a file named here", "a file named here"),
        ("www.example.it", "", ""),
        ("https:/broken", "broken", "broken"),
        ("ftp://files.example.com/x", "ftp:", "ftp"),
        ("user@mail.example.co", "user", "user"),
        ("@@double at", "at", "at"),
        ("#hash#tag", "hash tag", "hash tag"),
        ("&#x1F600; smile", "😀 smile", "😀 smile"),
        ("&#128512;", "😀", "😀"),
        ("&NTILDE; &Eacute &EACUTE;", "ñ é é", "ñ é é"),
        ("&amp;#233;", ";", ""),
        ("&amp;amp;", "", ""),
        ("“smart” ‘quotes’ ‚low‛", "smart\" 'quotes' 'low", "smart\" 'quotes' 'low"),
        ("„‟ʼ", "\"", "\""),
        ("<b>a</b><b>b</b>", "ab", "ab"),
        ("<img src='x.png' alt='pic'> a picture", "a picture", "a picture"),
        ("<div class=\"a\">in div</div>", "in div", "in div"),
        ("<unknown-tag>text</unknown-tag>", "text", "text"),
        ("1.2.3.4.5", ". 5", ". 5"),
        ("123.45.67.89:8080", ":8080", "8080"),
        ("version 2:30 ", "version 2:30", "version 2:30"),
        ("a\\nb\\n", "a b", "a b"),
        ("tl;dr", "tl;dr", "tl;dr"),
        ("C++ code", "c code", "c code"),
        ("C# lang", "c lang", "c lang"),
        ("F# and #7", "f and", "f and"),
        ("+x.jpg&x;", "x", "x"),
        ("&#150;\u{96}ßÉ*%20\"<b>”½日", "–ßé \"", "ßé \""),
        ("&#39;-<!--)ß", "-<!- ß", "<!- ß"),
        ("123×+", "123×", "123×"),
        ("のé\u{85}のafor/[-%C3%A9ﬁ&nbsp", "のé…のafor -éfi nbsp", "のé…のafor -éfi nbsp"),
        ("%20©&lt;|日192.168.1.1<b>192.168.1.1\\n<br><!--)", "< <!-", "< <!"),
        ("</script><?\"shipping2ﬁ})-<p>©.com", ". com", ". com"),
        ("</b>)\u{200B}@の%C3%A9http://“\u{FEFF}/png", "\u{200B}: \"", "\u{200B}: \""),
        ("Σ-", "σ", "σ"),
        ("‘xのΣ", "xのσ", "xのσ"),
        ("192.168.1.1;\u{94}shipping", ";\"", "\""),
        ("*..", "", ""),
        ("ﬁ1234567", "", ""),
        ("日éfree(<?", "éfree <?", "éfree <?"),
        ("{&#12‘\u{93}[©", "'\"", "\""),
        ("clickshipping.com“-->cat", "\"->cat", "\"->cat"),
        ("/<script>%C3%A9 ", "", ""),
        (" \"<script>123<!DOCTYPE x>", "\"", "\""),
        ("<br>× : é@日É", "× : é", "× : é"),
        ("Ｆ](.com’1234567</script></", "f . com'<", "f com'<"),
        ("&#shipping\t", "", ""),
        ("é : .com“@‘%20  ", "é: . com\"", "é: com\""),
        ("–</script>..&amp;", "", ""),
        ("の\u{94}click", "の\"click", "の\"click"),
        (" : @bob", "", ""),
        ("é<br>&nbsp”ß", "é \"ß", "é \"ß"),
        ("ﬁ\u{200B}\"192.168.1.1 .jc66,“”", "fi\u{200B}\" . jc66,\"", "fi\u{200B}\" jc66,\""),
        ("<.com#  192.168.1.1\u{200B} ﬁ", "<. com \u{200B} fi", "<. com \u{200B} fi"),
        ("</b>1:23?>", "1:23?>", "1:23?>"),
        ("🚀 4<@’の<!--</script>'click\n", "🚀 4< 'の<!-< script>'click", "🚀 4< 'の'click"),
        ("\u{94}", "\"", "\""),
        ("\n?>", "?>", "?>"),
        ("Ｆshipping 4_1:23<p>x.jpgonﬁΣ}&#", "f onfiς", "f onfiς"),
        (".. 4x.jpg", "", ""),
        ("'png\t\u{FEFF}", "", ""),
        ("; &#shipping 4‘</— :    >", "4'< - : >", "4'< - : >"),
        ("™<!--　x<![CDATA[　image’", "<!- x<! cdata image", "<!- x<! cdata image"),
        (" 12:34 http://2&amp;\u{200B}&#x41; 4on1:23&x;", "12:34 2 \u{200B}A :23 x", "12:34 2 \u{200B}a :23 x"),
        ("日x.jpg \u{FEFF} 4", "4", "4"),
        ("123onpng™download", "123onpng", "123onpng"),
        ("&lt;\n</script>™“", "< \"", "< \""),
        ("“\t<?%20&#150;/&amp;\t,#(\u{85}", "\" <? - ,", "\" <? -"),
        ("&#39;", "", ""),
        (
            "40vc\"\u{200B}..&#150;É&#150;™<!DOCTYPE x>&nbsp<![CDATA[", "40vc\"\u{200B} -é- <! cdata",
            "40vc\"\u{200B} -é- <! cdata"
        ),
        ("　&amp;\u{FEFF}}\tß : ", "ß", "ß"),
        ("“-\u{93}#12@page&nbsp\u{96}　 ", "\"-\" –", "\"-\""),
        ("{", "", ""),
        ("’ #12 : <!--\\&#39;&amp;\"", ": <!- '", "<!-"),
        ("</", "<", "<"),
        ("\\;Σ", ";σ", "σ"),
        ("&#x41;click", "Aclick", "aclick"),
        ("1:23on'.ﬁ", "1:23on'. fi", "1:23on'. fi"),
        ("&%C3%A9\u{94}”™", "é\"\"", "é\""),
        ("\u{200B}.@É1:23", "\u{200B}.:23", "\u{200B}.:23"),
        (" : ’”\u{200B}\"</", "\"\u{200B}\"<", "\"\u{200B}\"<"),
        ("ß>{<!--</script><?Σ\u{85}", "ß> <!-< script><?σ", "ß> <?σ"),
        ("“<?\u{96}Ｆé<![CDATA[ : ©–pagefree'", "<?–fé<! cdata: -pagefree", "<?-fé<! cdata: -pagefree"),
        ("\\n 4%C3%A9192.168.1.1free\u{93}\u{94}🚀", "4é free\"\"🚀", "4é free\"🚀"),
        ("xdownload‘(Ｆ[)", "x' f", "x' f"),
        ("1:23™", "1:23", "1:23"),
        ("<p>&#×日_1234567@]]>”", "×_1234567 >\"", "×_1234567 >\""),
        ("a</cat|™  &#39;*png", "a< cat '", "a< cat"),
        ("(x.jpg(ﬁ&#x41;1234567http://", ":", ""),
        ("<br>downloadimage1234567}free+?> 4©40vc", "image1234567 free ?> 4 40vc", "image1234567 free ?> 4 40vc"),
        ("\u{85}<?", "<?", "<?"),
        ("192.168.1.1?>‘</script>", "?>", "?>"),
        ("<!--{<![CDATA['×>\"&nbsp?>* 12:34 Σ", "<!- <! cdata '×>\" ?> 12:34 σ", "\" ?> 12:34 σ"),
        ("-->&#39;<script>&nbsp+.com*\n", ">", ">"),
        (".&#x41;", "", ""),
        ("ﬁ", "fi", "fi"),
        ("1:23*™-->x.jpgwww.\u{85}", "www.", "www."),
        ("{ 4,<!DOCTYPE x>", "4", "4"),
        ("jc66 : ", "jc66", "jc66"),
        ("\u{94}.1234567123#12shipping</", "\". 12<", "\". 12<"),
        ("@/'/*1234567-->", "' ->", "->"),
        ("<?123Ｆ½on½/_", "<?123f on", "<?123f on"),
        ("‘@<!DOCTYPE x>–*) : ", "-", ""),
        ("/ : \u{FEFF}🚀<–40vc&#39;</script>–%C3%A9ß", ": 🚀<-40vc'-éß", "🚀<-40vc'-éß"),
        ("#\nΣcat,<![CDATA[?>png\n#click", "σcat,<! cdata ?> click", "σcat, click"),
        ("ßdownload<b>™", "ß", "ß"),
        (
            "with crème br with crĂ¨me brĂťlĂŠe đ\u{9F}\u{9A}\u{80} Ă\u{97}",
            "with crème br with cră\"me brăťlăše 🚀 ă—", "with crème br with cră\"me brăťlăše 🚀 ă"
        ),
        ("a ‚Ç¨100", "a 'ç\"100", "a 'ç\"100"),
        (" the â\u{80}\u{94}dashâ\u{80}\u{94} cafÃ© sunset", "the —dash— cafã sunset", "the -dash- cafã sunset"),
        (
            "coöpera coÃ¶perate í\u{95}\u{9C}êµ­ â\u{84}¢ smÃ¶rgÃ¥sbord the beach naÃ¯ve",
            "coöpera coã¶perate 한국 ™ smã¶rgã¥sbord the beach naã¯ve",
            "coöpera coã¶perate 한국 smã¶rgã¥sbord the beach naã¯ve"
        ),
        ("ĂĽber faĂ§ade coĂ¶perate", "ăľber faă ade coă¶perate", "ăľber faă ade coă¶perate"),
        ("🚀 “quoted” piñata don’t", "🚀 \"quoted\" piñata don't", "🚀 \"quoted\" piñata don't"),
        (
            "coÃ\u{83}Â¶perate Ã\u{83}â\u{80}\u{94} faÃ\u{83}Â§ade sunset beach with",
            "coãƒâ¶perate ãƒâ€\" faãƒâ ade sunset beach with", "coãƒâ¶perate ãƒâ€\" faãƒâ ade sunset beach with"
        ),
        ("sunset €100 Привет", "sunset €100 привет", "sunset €100 привет"),
        (
            "and on on €100 🚀 coöperate résumé and on on â‚¬100 ðŸš€ coÃ¶perate rÃ©sumÃ©",
            "and on on €100 🚀 coöperate résumé and on on €100 ðÿš€ coã¶perate rã sumã",
            "and on on €100 🚀 coöperate résumé and on on €100 ðÿš€ coã¶perate rã sumã"
        ),
        (
            "donÃ¢â\u{82}¬â\u{84}¢t a Ã\u{82}Â©2024 Ã¢â\u{82}¬â\u{80}\u{9D}dashÃ¢â\u{82}¬â\u{80}\u{9D}",
            "donã¢â'¬â\"¢t a ã'â 2024 ã¢â'¬â€\u{9D}dashã¢â'¬â€\u{9D}",
            "donã¢â'¬â\"¢t a ã'â 2024 ã¢â'¬â€\u{9D}dashã¢â'¬â€\u{9D}"
        ),
        (
            "ā€”dashā€” dog Ā£5 sunset in ā€\u{FFFD}quotedā€¯", "ā€\"dashā€\" dog ā£5 sunset in ā€\u{FFFD}quoted\"",
            "ā€\"dashā€\" dog ā£5 sunset in ā€\u{FFFD}quoted\""
        ),
        ("straÃ\u{9F}e faÃ§ade", "straãŸe faã ade", "straãÿe faã ade"),
        (
            "cafĂ© â€”dashâ€” ĐźŃ€Đ¸Đ˛ĐµŃ‚ and Î•Î»Î»Î·Î˝ÎąÎşÎ¬ Â©2024",
            "cafă â€\"dashâ€\" đźń€đ¸đ˛đµń' and î î\"î\"î î˝îąîşî¬ â 2024",
            "cafă â€\"dashâ€\" đźń€đ¸đ˛đµń' and î î\"î\"î î˝îąîşî¬ â 2024"
        ),
        ("ć\u{97}Ľć\u{9C}Ź the Ăźber", "旵朼 the ăźber", "the ăźber"),
        (
            "â€œquotedâ€\u{FFFD} dog rÃ©sumÃ© crÃ¨me brÃ»lÃ©e on",
            "\"quotedâ€\u{FFFD} dog rã sumã crã\"me brã\"lã e on", "\"quotedâ€\u{FFFD} dog rã sumã crã\"me brã\"lã e on"
        ),
        ("の Ελληνικά", "の ελληνικά", "の ελληνικά"),
        ("coöperate —dash— 🚀 🚀 日本 straße", "coöperate -dash- 🚀 🚀 straße", "coöperate -dash- 🚀 🚀 straße"),
        (
            "dog cat Î¶â\u{80}\u{94}Â¥Î¶ï¿½Â¬ sunset Î\u{92}Â©2024 on cat Î½â\u{80}¢ï¿½ÎºÂµÂ­",
            "dog cat î¶â€\"â¥î¶ï ⬠sunset î'â 2024 on cat î •ï î âµâ­",
            "dog cat î¶â€\"â¥î¶ï ⬠sunset î'â 2024 on cat î ï î âµâ­"
        ),
        ("ﬁne and ﬁne", "fine and fine", "fine and fine"),
        ("Ä\u{91}Â\u{9F}Â\u{98}Â\u{80} on", "ä'âŸâ˜â€ on", "ä'âÿâ˜â€ on"),
        (
            "naĆÆve smĆ¶rgĆ\u{FFFD}sbord coĆ¶perate ā„¢ beach the dog",
            "naćæve smć¶rgć\u{FFFD}sbord coć¶perate ā\"¢ beach the dog",
            "naćæve smć¶rgć\u{FFFD}sbord coć¶perate ā\"¢ beach the dog"
        ),
        ("¬∞C –ü—Ä–∏–≤–µ—Ç ‚Ç¨100 sleeping", "¬∞c ü ä ∏ ≤ µ ç 'ç\"100 sleeping", "¬∞c ü ä ∏ ≤ µ ç 'ç\"100 sleeping"),
        ("donâ\u{80}\u{99}t", "don't", "don't"),
        (
            "cafÃ© â€”dashâ€” Ğ¼Ğ¸Ñ€ ĞŸÑ€Ğ¸Ğ²ĞµÑ‚ with", "cafã â€\"dashâ€\" ğ¼ğ¸ñ€ ğÿñ€ğ¸ğ²ğµñ' with",
            "cafã â€\"dashâ€\" ğ¼ğ¸ñ€ ğÿñ€ğ¸ğ²ğµñ' with"
        ),
        (
            "a ©2024 한국 the crème brûlée ca a ¬©2024 ÌïúÍµ≠ the cr√®me br√ªl√©e caf√©",
            "a 2024 한국 the crème brûlée ca a ¬ 2024 ìïúíµ≠ the cr√ me br√ªl√ e caf√",
            "a 2024 한국 the crème brûlée ca a ¬ 2024 ìïúíµ≠ the cr√ me br√ªl√ e caf√"
        ),
        (
            "with rÃ©sumÃ© æ—¥æœ¬ ğŸ˜€ in Â½ rÃ©sumÃ©", "with rã sumã æ-¥æœ¬ ğÿ˜€ in â rã sumã",
            "with rã sumã æ-¥æœ¬ ğÿ˜€ in â rã sumã"
        ),
        (
            "€100 ‚Ç¨100 ‚Ñ¢ fa√ßade and the Ô¨Åne", "€100 'ç\"100 'ñ¢ fa√ßade and the ô\"åne",
            "€100 'ç\"100 'ñ¢ fa√ßade and the ô\"åne"
        ),
        ("‘sin â€˜singleâ€™ â€˜singleâ€™", "sin 'single† 'single†", "sin 'single† 'single†"),
        ("“quot ‚Äúquoted‚Äù ‚Ä¶ and", "\"quot 'äúquoted'äù 'ä¶ and", "\"quot 'äúquoted'äù 'ä¶ and"),
        ("Ä\u{9F}Å¸Å¡â\u{82}¬ Ã\u{83}Â¼ber", "äŸå¸å € ãƒâ¼ber", "äÿå¸å € ãƒâ¼ber"),
        (
            "piГ±ata faГ§ade cafГ© В°C ВЅ the рџ\u{FFFD}Ђ", "piг±ata faг ade cafг в°c вѕ the рџ\u{FFFD}ђ",
            "piг±ata faг ade cafг в°c вѕ the рџ\u{FFFD}ђ"
        ),
        (
            "smÃ¶rgÃ¥sbord smÎ\u{93}Â¶rgÎ\u{93}Â¥sbord Î²â\u{80}\u{9A}Â¬100 straÎ\u{93}ï¿½e Î¶â\u{80}\u{94}Â¥Î¶ï¿½Â¬ Î½â\u{80}¢ï¿½ÎºÂµÂ­ with Î½â\u{80}¢ï¿½ÎºÂµÂ­",
            "smã¶rgã¥sbord smî\"â¶rgî\"â¥sbord î²â€šâ¬100 straî\"ï e î¶â€\"â¥î¶ï ⬠î •ï î âµâ­ with î •ï î âµâ­",
            "smã¶rgã¥sbord smî\"â¶rgî\"â¥sbord î²â€šâ¬100 straî\"ï e î¶â€\"â¥î¶ï ⬠î ï î âµâ­ with î ï î âµâ­"
        ),
        (
            "in ﬁne don’t and sleeping su in ï¬\u{FFFD}ne donâ€™t and sleeping sunset",
            "in fine don't and sleeping su in ï¬\u{FFFD}ne don†t and sleeping sunset",
            "in fine don't and sleeping su in ï¬\u{FFFD}ne don†t and sleeping sunset"
        ),
        (
            "日本 ﬁne don’ Êó•Êú¨ Ô¨Åne don‚Äôt with", "fine don' êó êú\" ô\"åne don'äôt with",
            "fine don' êó êú\" ô\"åne don'äôt with"
        ),
        (
            "í\u{95}\u{9C}êµ­ Â°C Î\u{95} Ã­Â\u{95}Â\u{9C}ÃªÂµÂ­ Ã\u{82}Â°C Ã\u{8E}Â\u{95}Ã\u{8E}Â»Ã\u{8E}Â»Ã\u{8E}Â·Ã\u{8E}Â½Ã\u{8E}Â¹Ã\u{8E}ÂºÃ\u{8E}Â¬",
            "한국 â°c î• ã­â•âœãªâµâ­ ã'â°c ãŽâ•ãŽâ\"ãŽâ\"ãŽâ ãŽâ ãŽâ¹ãŽâ ãŽâ¬",
            "한국 â°c î ã­â âœãªâµâ­ ã'â°c ãžâ ãžâ\"ãžâ\"ãžâ ãžâ ãžâ¹ãžâ ãžâ¬"
        ),
        ("and the the × … 日本 “quoted” の", "and the the × … \"quoted\" の", "and the the × … \"quoted\" の"),
        (
            "sunset sunset coÃ¶perate æ\u{97}¥æ\u{9C}¬ Â°C faÃ§ade naÃ¯ve naÃ¯ve",
            "sunset sunset coã¶perate 日本 â°c faã ade naã¯ve naã¯ve",
            "sunset sunset coã¶perate â°c faã ade naã¯ve naã¯ve"
        ),
        ("Â£5 Ð¼Ð¸Ñ\u{80} sunset", "â£5 ð¼ð¸ñ€ sunset", "â£5 ð¼ð¸ñ€ sunset"),
        (
            "—dash— beach Ελληνικά €100 résumé €100 café", "dash- beach ελληνικά €100 résumé €100 café",
            "dash- beach ελληνικά €100 résumé €100 café"
        ),
        (
            "beach straße sleeping  beach straĆ\u{FFFD}e sleeping ā‚¬100 ā„¢ piĆ±ata sunset Ā½",
            "beach straße sleeping beach strać\u{FFFD}e sleeping €100 ā\"¢ pić±ata sunset ā",
            "beach straße sleeping beach strać\u{FFFD}e sleeping €100 ā\"¢ pić±ata sunset ā"
        ),
        (
            "beach sleeping Ä\u{87}Â\u{97}Ä½Ä\u{87}Â\u{9C}Å¹", "beach sleeping ä‡â—ä ä‡âœå¹",
            "beach sleeping ä‡â-ä ä‡âœå¹"
        ),
        (
            "n na├»ve ┬░C ┬╜ a Γäó sm├╢rg├Ñsbord ∩¼üne", "n na├\"ve ┬░c ┬╜ a γäó sm├╢rg├ñsbord ∩¼üne",
            "n na├\"ve ┬░c ┬╜ a γäó sm├╢rg├ñsbord ∩¼üne"
        ),
        ("piÃ±ata", "piã±ata", "piã±ata"),
        ("мир ™ 한국 don’t with naïve", "мир 한국 don't with naïve", "мир 한국 don't with naïve"),
        (
            "donÃ¢â\u{82}¬â\u{84}¢t cat Ã¯Â¬ï¿½ne smÃ\u{83}Â¶rgÃ\u{83}Â¥sbord straÃ\u{83}Å¸e sunset Ã\u{82}Â½",
            "donã¢â'¬â\"¢t cat ã¯â¬ï ne smãƒâ¶rgãƒâ¥sbord straãƒå¸e sunset ã'â",
            "donã¢â'¬â\"¢t cat ã¯â¬ï ne smãƒâ¶rgãƒâ¥sbord straãƒå¸e sunset ã'â"
        ),
        ("Ă—", "ă", "ă"),
        ("“quoted” ½ の ™ の sunset 😀 ×", "\"quoted\" の の sunset 😀 ×", "\"quoted\" の の sunset 😀 ×"),
        (
            "crĂ¨me brĂťlĂŠe í\u{95}\u{9C}ęľ­ a â\u{80}Ś the", "cră\"me brăťlăše 한국 a ‶ the",
            "cră\"me brăťlăše 한국 a ‶ the"
        ),
        (
            "Â©2024 Â£5 í•œêµ­ æ—¥æœ¬ sleeping Â£5 â‚¬100", "â 2024 â£5 í œêµ­ æ-¥æœ¬ sleeping â£5 €100",
            "â 2024 â£5 í œêµ­ æ-¥æœ¬ sleeping â£5 €100"
        ),
        (" Г— вЂ¦", "г- вђ¦", "г- вђ¦"),
        ("crĆØme brĆ»lĆ©e dog coĆ¶perate", "crćøme brć\"lć e dog coć¶perate", "crćøme brć\"lć e dog coć¶perate"),
        ("ĞŸÑ€Ğ¸Ğ²ĞµÑ‚ and", "ğÿñ€ğ¸ğ²ğµñ' and", "ğÿñ€ğ¸ğ²ğµñ' and"),
        ("½ ™", "", ""),
        (
            "ж—Ґжњ¬ п¬Ѓne and О•О»О»О·ОЅО№ОєО¬ рџљЂ вЂ¦", "ж-ґжњ¬ п¬ѓne and о о\"о\"о оѕо№оєо¬ рџљђ вђ¦",
            "ж-ґжњ¬ п¬ѓne and о о\"о\"о оѕо№оєо¬ рџљђ вђ¦"
        ),
        (
            "Ελληνικ ╬ò╬╗╬╗╬╖╬╜╬╣╬║╬¼ ΓÇª beach", "ελληνικ ╬ò╬╗╬╗╬╖╬╜╬╣╬║╬¼ γçª beach",
            "ελληνικ ╬ò╬╗╬╗╬╖╬╜╬╣╬║╬¼ γçª beach"
        ),
        (
            "donâ\u{80}\u{9A}Ã\u{84}Ã´t â\u{80}\u{9A}Ã\u{84}Ã²singleâ\u{80}\u{9A}Ã\u{84}Ã´",
            "don'ã\"ã\"t 'ã\"ã²single'ã\"ã\"", "don'ã\"ã\"t 'ã\"ã²single'ã\"ã\""
        ),
        ("½", "", ""),
        ("日本 on €100 with ™ €100 the", "on €100 with €100 the", "on €100 with €100 the"),
        (
            "coöperate °C beach façade the sleeping °C 한국", "coöperate °c beach façade the sleeping °c 한국",
            "coöperate °c beach façade the sleeping °c 한국"
        ),
        ("in with Â©2 in with Ã\u{82}Â©2024", "in with â 2 in with ã'â 2024", "in with â 2 in with ã'â 2024"),
    ]
}
