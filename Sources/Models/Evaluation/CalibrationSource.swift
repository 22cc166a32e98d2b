import Foundation

/// Where calibration windows are drawn from: the C4 sample (the default, as SparseGPT and Wanda
/// calibrate), WikiText-2's train split, WikiText-2's test split (the text perplexity scores, so
/// calibrating on it leaks the evaluation data), or a text file.
public enum CalibrationSource: Sendable, Equatable {
    /// The C4 sample's documents (`c4/*.jsonl` of the data folder).
    case c4
    /// WikiText-2's raw train split (`wikitext-2-raw/wiki.train.raw`), joined as the test split is.
    case wikitext2Train
    /// WikiText-2's raw test split, the text `ppl` scores: leakage.
    case wikitext2Test
    /// A text file read whole as UTF-8, one document.
    case file(String)

    /// The names a call may give besides a path.
    public static let names = ["c4", "wikitext2", "wikitext2-test"]

    /// The source a call names: "c4", "wikitext2" (also "wikitext-2", "wikitext": the train split),
    /// "wikitext2-test" (also "wikitext-2-test", "wikitext-test"), anything else a file path.
    public init(_ name: String) {
        switch name {
        case "c4": self = .c4
        case "wikitext2", "wikitext-2", "wikitext": self = .wikitext2Train
        case "wikitext2-test", "wikitext-2-test", "wikitext-test": self = .wikitext2Test
        default: self = .file(name)
        }
    }

    /// The name as a call writes it (the path for a file).
    public var name: String {
        switch self {
        case .c4: return "c4"
        case .wikitext2Train: return "wikitext2"
        case .wikitext2Test: return "wikitext2-test"
        case .file(let path): return path
        }
    }

    /// Whether the windows come from WikiText-2's test split, the text perplexity scores by
    /// default: named so, or a file holding its bytes (raw, or joined as `ppl` reads it).
    public func leaksTestText(dataFolder: String) -> Bool {
        switch self {
        case .wikitext2Test: return true
        case .c4, .wikitext2Train: return false
        case .file(let path):
            let raw = URL(fileURLWithPath: dataFolder).appendingPathComponent("wikitext-2-raw/wiki.test.raw").path
            guard let reference = FileManager.default.contents(atPath: raw),
                  let candidate = FileManager.default.contents(atPath: path) else { return false }
            if candidate == reference { return true }
            guard abs(candidate.count - reference.count) < reference.count / 2, let joined = try? DataCatalog.wikitext2Test(raw) else { return false }
            return candidate == Data(joined.utf8)
        }
    }

    /// What a session should say when windows come from this source: a warning when they come
    /// from the text perplexity scores, nil otherwise.
    public func warning(dataFolder: String) -> String? {
        guard leaksTestText(dataFolder: dataFolder) else { return nil }
        return "calib_data=\"\(name)\" calibrates on WikiText-2's test split, the text ppl scores: those perplexities are no longer held out (leakage). Use \"c4\", \"wikitext2\" (the train split) or a file of other text for numbers you report"
    }

    /// The path of WikiText-2's train split in `folder`.
    public static func wikitext2TrainPath(in folder: String) -> String {
        URL(fileURLWithPath: folder).appendingPathComponent("wikitext-2-raw/wiki.train.raw").path
    }

    /// Throws `InferenceError.invalidArgument` with a message for the user unless the source can
    /// be read from `folder` (the C4 sample is checked when it is read).
    public func checkAvailable(in folder: String) throws {
        switch self {
        case .c4, .wikitext2Test: return
        case .wikitext2Train:
            guard FileManager.default.isReadableFile(atPath: Self.wikitext2TrainPath(in: folder)) else {
                throw InferenceError.invalidArgument("the data folder (\(folder)) has no WikiText-2 train split (wikitext-2-raw/wiki.train.raw), only the test split that ppl scores; calib_data=\"wikitext2-test\" calibrates on that test text anyway (leakage, with a warning), or give a text file's path")
            }
        case .file(let path):
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  FileManager.default.isReadableFile(atPath: path) else {
                throw InferenceError.invalidArgument("calib_data \"\(path)\" is neither a data set (\(Self.names.map { "\"\($0)\"" }.joined(separator: ", "))) nor a readable text file")
            }
        }
    }

    /// The documents windows are drawn from: C4's documents in file order, or one document (a
    /// WikiText-2 split joined as `ppl` joins the test split, or the file's whole text).
    public func documents(in folder: String) throws -> [String] {
        let base = URL(fileURLWithPath: folder)
        switch self {
        case .c4:
            return try DataCatalog.c4Documents(in: base.appendingPathComponent("c4").path)
        case .wikitext2Train:
            try checkAvailable(in: folder)
            return [try DataCatalog.wikitext2Test(Self.wikitext2TrainPath(in: folder))]
        case .wikitext2Test:
            return [try DataCatalog.wikitext2Test(base.appendingPathComponent("wikitext-2-raw/wiki.test.raw").path)]
        case .file(let path):
            try checkAvailable(in: folder)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw InferenceError.invalidArgument("calib_data \"\(path)\" could not be read")
            }
            return [String(decoding: data, as: UTF8.self)]
        }
    }
}
