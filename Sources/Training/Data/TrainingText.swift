import Foundation
import Models

/// The text a language model trains on, as tokens: a data set of the data folder by name ("c4",
/// the C4 sample's documents joined by blank lines) or any text file, tokenised whole. WikiText-2's
/// test split is the evaluation text of every perplexity PruneLang reports, so it is refused as
/// training data, by name and by content (a copy of the file elsewhere is caught too).
public enum TrainingText {
    /// The names that mean WikiText-2's test split.
    public static let evaluationNames: Set<String> = ["wikitext2", "wikitext-2", "wikitext"]

    /// The tokens of `nameOrPath` under `tokenizer` (no BOS), or an error naming why it cannot be trained on.
    public static func tokens(of nameOrPath: String, tokenizer: BPETokenizer, dataFolder: String = DataCatalog.folder) throws -> [Int32] {
        let text = try self.text(of: nameOrPath, dataFolder: dataFolder)
        let ids = tokenizer.encode(text)
        guard !ids.isEmpty else { throw TrainingError.badData("the training text \(nameOrPath) is empty") }
        return ids
    }

    /// The text of `nameOrPath`, refusing WikiText-2's test split.
    public static func text(of nameOrPath: String, dataFolder: String = DataCatalog.folder) throws -> String {
        if evaluationNames.contains(nameOrPath.lowercased()) { throw refusal(nameOrPath) }
        if FileManager.default.fileExists(atPath: nameOrPath), isEvaluationFile(nameOrPath, dataFolder: dataFolder) {
            throw refusal(nameOrPath)
        }
        do {
            return try DataCatalog.text(of: nameOrPath, in: dataFolder)
        } catch let e as InferenceError {
            throw TrainingError.badData(e.description)
        }
    }

    /// Whether the file at `path` holds WikiText-2's test split (the same bytes as the data
    /// folder's `wiki.test.raw`, or that text as perplexity reads it).
    static func isEvaluationFile(_ path: String, dataFolder: String) -> Bool {
        let raw = URL(fileURLWithPath: dataFolder).appendingPathComponent("wikitext-2-raw/wiki.test.raw").path
        guard let reference = FileManager.default.contents(atPath: raw),
              let candidate = FileManager.default.contents(atPath: path) else { return false }
        if candidate == reference { return true }
        guard abs(candidate.count - reference.count) < reference.count / 2,
              let joined = try? DataCatalog.wikitext2Test(raw) else { return false }
        return candidate == Data(joined.utf8)
    }

    private static func refusal(_ what: String) -> TrainingError {
        .invalidArgument("\(what) is WikiText-2's test split, the text every perplexity here is measured on: training on it would make those numbers meaningless. Train on \"c4\" or another text file")
    }
}
