import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// What the tests learn from parsing an SVG (or HTML) document as XML.
struct ParsedXML {
    var ok = false
    var error: String?
    var ids: [String] = []
    var references: [String] = []
    var elements: [String] = []
    var attributes: [(element: String, name: String, value: String)] = []
    var text = ""
}

/// Parses `document` with Foundation's `XMLParser`, collecting ids, `url(#…)` references, element
/// names, attributes and character data.
func parseXML(_ document: String) -> ParsedXML {
    final class Collector: NSObject, XMLParserDelegate {
        var result = ParsedXML()
        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            result.elements.append(elementName)
            for (k, v) in attributeDict {
                result.attributes.append((elementName, k, v))
                if k == "id" { result.ids.append(v) }
                var rest = Substring(v)
                while let r = rest.range(of: "url(#") {
                    let after = rest[r.upperBound...]
                    if let close = after.firstIndex(of: ")") {
                        result.references.append(String(after[..<close]))
                        rest = after[close...]
                    } else { break }
                }
            }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { result.text += string }
        func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
            result.error = "\(parseError) at line \(parser.lineNumber), column \(parser.columnNumber)"
        }
    }
    let collector = Collector()
    let parser = XMLParser(data: Data(document.utf8))
    parser.delegate = collector
    collector.result.ok = parser.parse()
    return collector.result
}

/// The path of rsvg-convert, or nil when it is not installed.
let rsvgConvert: String? = ["/usr/bin/rsvg-convert", "/usr/local/bin/rsvg-convert"]
    .first { FileManager.default.isExecutableFile(atPath: $0) }

/// Writes `svg` to the scratch folder as `<name>.svg`, renders it to `<name>.png` with
/// rsvg-convert, and checks the PNG: it exists, is non-empty and starts with the PNG signature.
/// Returns the PNG's URL.
@discardableResult
func expectRendersToPNG(_ svg: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) -> URL? {
    guard let rsvg = rsvgConvert else {
        Issue.record("rsvg-convert is not installed (Debian package librsvg2-bin)", sourceLocation: sourceLocation)
        return nil
    }
    let svgURL = PlotsTestSupport.scratch.appendingPathComponent(name + ".svg")
    let pngURL = PlotsTestSupport.scratch.appendingPathComponent(name + ".png")
    try? FileManager.default.removeItem(at: pngURL)
    do {
        try svg.write(to: svgURL, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: rsvg)
        p.arguments = ["--format", "png", "--output", pngURL.path, svgURL.path]
        let errors = Pipe()
        p.standardError = errors
        try p.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "rsvg-convert failed on \(name): \(message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("could not run rsvg-convert on \(name): \(error)", sourceLocation: sourceLocation)
        return nil
    }
    guard let data = try? Data(contentsOf: pngURL) else {
        Issue.record("no PNG written for \(name)", sourceLocation: sourceLocation)
        return nil
    }
    #expect(data.count > 100, "PNG for \(name) is \(data.count) bytes", sourceLocation: sourceLocation)
    #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
            "\(name).png lacks the PNG signature", sourceLocation: sourceLocation)
    return pngURL
}

/// Checks that `svg` parses as XML, that its ids are unique and its references resolve, and that
/// no coordinate is NaN, infinite or written with rounding noise. Returns the parse.
@discardableResult
func expectWellFormedSVG(_ svg: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) -> ParsedXML {
    let parsed = parseXML(svg)
    #expect(parsed.ok, "\(name) does not parse: \(parsed.error ?? "?")", sourceLocation: sourceLocation)
    #expect(parsed.elements.first == "svg", sourceLocation: sourceLocation)
    #expect(Set(parsed.ids).count == parsed.ids.count, "duplicate ids in \(name)", sourceLocation: sourceLocation)
    for r in parsed.references {
        #expect(parsed.ids.contains(r), "\(name) refers to missing id \(r)", sourceLocation: sourceLocation)
    }
    let geometric: Set<String> = ["x", "y", "width", "height", "d", "cx", "cy", "r", "x1", "x2", "y1", "y2",
                                  "viewBox", "transform"]
    for a in parsed.attributes where geometric.contains(a.name) {
        let lower = a.value.lowercased()
        #expect(!lower.contains("nan") && !lower.contains("inf"), "\(name): \(a.element) \(a.name)=\(a.value.prefix(80))",
                sourceLocation: sourceLocation)
        // at most two decimals and no exponent in coordinates
        var digitsAfterPoint = -1
        var bad = false
        var previous: Character = " "
        for ch in a.value {
            if ch == "." { digitsAfterPoint = 0 } else if ch.isNumber { if digitsAfterPoint >= 0 { digitsAfterPoint += 1 } }
            else { digitsAfterPoint = -1 }
            if digitsAfterPoint > 2 || (ch == "e" && previous.isNumber) { bad = true }
            previous = ch
        }
        #expect(!bad, "\(name): noisy number in \(a.element) \(a.name)=\(a.value.prefix(80))", sourceLocation: sourceLocation)
    }
    return parsed
}
