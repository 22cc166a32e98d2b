import Foundation

/// The evaluation and calibration data sets and where they live: `PRUNELANG_DATA`, else a
/// `shared/data` folder beside or above the working directory or the executable (the layout of
/// a PruneLang checkout next to its shared data). Each data set has one protocol, described in
/// that folder's README; `text(of:)` builds the exact text the protocol scores.
public enum DataCatalog {
    /// The data folder.
    public static var folder: String {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["PRUNELANG_DATA"], !dir.isEmpty { return dir }
        let fm = FileManager.default
        let starts = [URL(fileURLWithPath: fm.currentDirectoryPath),
                      URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()]
        for start in starts {
            var dir = start
            for _ in 0..<7 {
                let candidate = dir.appendingPathComponent("shared/data")
                if fm.fileExists(atPath: candidate.appendingPathComponent("README.md").path) { return candidate.path }
                dir = dir.deletingLastPathComponent()
            }
        }
        return URL(fileURLWithPath: fm.currentDirectoryPath).deletingLastPathComponent().appendingPathComponent("shared/data").path
    }

    /// The data sets known by name, for perplexity and calibration.
    public static let textSets = ["wikitext2", "c4"]

    /// The text a named data set scores, or the whole file at a path. "wikitext2" is the
    /// WikiText-2 raw test split as Hugging Face's builder rows joined by "\n\n" (each non-blank
    /// line keeps its leading space and newline; a blank line becomes ""), the SparseGPT/Wanda
    /// protocol; "c4" is the calibration sample's documents joined by "\n\n".
    public static func text(of nameOrPath: String, in folder: String = DataCatalog.folder) throws -> String {
        let base = URL(fileURLWithPath: folder)
        switch nameOrPath {
        case "wikitext2", "wikitext-2", "wikitext":
            return try wikitext2Test(base.appendingPathComponent("wikitext-2-raw/wiki.test.raw").path)
        case "c4":
            return try c4Documents(in: base.appendingPathComponent("c4").path).joined(separator: "\n\n")
        default:
            guard let data = FileManager.default.contents(atPath: nameOrPath) else {
                throw InferenceError.invalidArgument("data '\(nameOrPath)' is neither a known data set (\(textSets.joined(separator: ", "))) nor a readable file (data folder: \(folder))")
            }
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// WikiText-2's test text exactly as `"\n\n".join(load_dataset(..., split="test")["text"])`.
    public static func wikitext2Test(_ rawPath: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: rawPath) else {
            throw InferenceError.invalidArgument("WikiText-2 not found at \(rawPath) (set PRUNELANG_DATA to the data folder)")
        }
        let raw = String(decoding: data, as: UTF8.self)
        var rows: [Substring] = []
        var start = raw.startIndex
        while start < raw.endIndex {
            let end = raw[start...].firstIndex(of: "\n").map { raw.index(after: $0) } ?? raw.endIndex
            let row = raw[start..<end]
            rows.append(row.unicodeScalars.allSatisfy(isPythonSpace) ? "" : row)
            start = end
        }
        return rows.joined(separator: "\n\n")
    }

    /// The documents of the C4 calibration sample (JSON lines with a "text" field), in file order.
    public static func c4Documents(in folder: String) throws -> [String] {
        let fm = FileManager.default
        guard let files = try? fm.contentsOfDirectory(atPath: folder).filter({ $0.hasSuffix(".jsonl") || $0.hasSuffix(".json") }).sorted(),
              !files.isEmpty else {
            throw InferenceError.invalidArgument("no C4 sample (.jsonl) in \(folder)")
        }
        var docs = [String]()
        for f in files {
            guard let data = fm.contents(atPath: URL(fileURLWithPath: folder).appendingPathComponent(f).path) else { continue }
            for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                if let obj = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], let text = obj["text"] as? String {
                    docs.append(text)
                }
            }
        }
        return docs
    }

    /// Python's `str.isspace` for one scalar (what `row.strip()` removes).
    static func isPythonSpace(_ s: Unicode.Scalar) -> Bool {
        s.properties.isWhitespace || (0x1C...0x1F).contains(s.value)
    }
}
