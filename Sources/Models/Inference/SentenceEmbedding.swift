import Foundation
import Numerics

/// How token vectors become one sentence vector (sentence-transformers' `Pooling` modes).
public enum SentencePooling: String, Sendable, CaseIterable {
    /// The mean of the token vectors (all-MiniLM-L6-v2).
    case mean
    /// The vector of the first token, [CLS].
    case cls
    /// The element-wise maximum over the tokens.
    case max
    /// The sum of the token vectors divided by √(token count).
    case meanSqrtLength

    /// Pools `rows` token vectors of width `d` starting at `x` into `out` (d values); sums in Float64.
    static func pool(_ mode: SentencePooling, _ x: UnsafePointer<Float>, rows: Int, d: Int, into out: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { out.update(repeating: 0, count: d); return }
        switch mode {
        case .cls:
            out.update(from: x, count: d)
        case .max:
            out.update(from: x, count: d)
            for r in 1..<rows { for j in 0..<d where x[r * d + j] > out[j] { out[j] = x[r * d + j] } }
        case .mean, .meanSqrtLength:
            var sum = [Double](repeating: 0, count: d)
            for r in 0..<rows { for j in 0..<d { sum[j] += Double(x[r * d + j]) } }
            let divisor = mode == .mean ? Double(rows) : Double(rows).squareRoot()
            for j in 0..<d { out[j] = Float(sum[j] / divisor) }
        }
    }
}

/// Vector helpers for sentence embeddings: L2 normalisation and cosine similarity.
public enum SentenceEmbedding {
    /// `v` divided by max(‖v‖₂, 1e-12), as sentence-transformers' `Normalize` module (torch's
    /// `F.normalize`) does; a zero vector stays zero.
    public static func l2Normalized(_ v: [Float]) -> [Float] {
        var out = v
        out.withUnsafeMutableBufferPointer { p in
            if let base = p.baseAddress { normalize(base, count: p.count) }
        }
        return out
    }

    /// Normalises `count` values in place to unit L2 norm (norm in Float64, floor 1e-12).
    static func normalize(_ v: UnsafeMutablePointer<Float>, count: Int) {
        var s = 0.0
        for i in 0..<count { s += Double(v[i]) * Double(v[i]) }
        let inv = 1 / Swift.max(s.squareRoot(), 1e-12)
        for i in 0..<count { v[i] = Float(Double(v[i]) * inv) }
    }

    /// The cosine similarity a·b / (‖a‖‖b‖) of two vectors, in Float64; 0 when either is zero.
    /// Throws when the lengths differ.
    public static func cosineSimilarity(_ a: [Float], _ b: [Float]) throws -> Double {
        guard a.count == b.count else {
            throw InferenceError.invalidArgument("cosine similarity of vectors of different lengths (\(a.count) and \(b.count))")
        }
        var dot = 0.0, na = 0.0, nb = 0.0
        for i in 0..<a.count {
            let x = Double(a[i]), y = Double(b[i])
            dot += x * y; na += x * x; nb += y * y
        }
        let denominator = (na * nb).squareRoot()
        return denominator > 0 ? dot / denominator : 0
    }
}

/// A sentence-transformers model end to end: its WordPiece tokenizer, the BERT forward pass and
/// the pipeline of its folder's `modules.json` (Transformer → Pooling → optional Normalize), with
/// `max_seq_length` from `sentence_bert_config.json`. `SentenceEmbedder(model:)` on
/// all-MiniLM-L6-v2 gives what `SentenceTransformer("all-MiniLM-L6-v2").encode(texts)` gives.
public struct SentenceEmbedder: Sendable {
    /// The forward pass.
    public var forward: BertForward
    /// The tokenizer, truncating to `maxLength` ids.
    public var tokenizer: WordPieceTokenizer
    /// The pooling mode.
    public var pooling: SentencePooling
    /// Whether the pipeline ends with L2 normalisation.
    public var normalizes: Bool

    /// The most ids a sentence is given (longer text is truncated, [SEP] kept).
    public var maxLength: Int { tokenizer.maxLength ?? forward.weights.maxLength }

    /// The embedder for `model` (a BERT), reading the tokenizer and pipeline from `folder`, by
    /// default the model's Hugging Face folder. A folder without `modules.json` is read as
    /// sentence-transformers reads a plain BERT: mean pooling, no normalisation, truncation at
    /// the tokenizer's length. Throws when files are missing or name modules it cannot run.
    public init(model: Model, folder: String? = nil) throws {
        guard let folder = folder ?? model.huggingFaceFolder else {
            throw InferenceError.invalidArgument("model '\(model.name)' has no folder with tokenizer.json; pass one")
        }
        try self.init(forward: BertForward(model: model), folder: URL(fileURLWithPath: folder))
    }

    /// The embedder from a forward pass and a sentence-transformers folder (see `init(model:folder:)`).
    public init(forward: BertForward, folder: URL) throws {
        self.forward = forward
        tokenizer = try WordPieceTokenizer(tokenizerJSON: folder.appendingPathComponent("tokenizer.json"))
        pooling = .mean
        normalizes = false
        let fm = FileManager.default
        func json(_ name: String) throws -> Any? {
            let url = folder.appendingPathComponent(name)
            guard fm.fileExists(atPath: url.path) else { return nil }
            guard let data = fm.contents(atPath: url.path), let obj = try? JSONSerialization.jsonObject(with: data) else {
                throw InferenceError.invalidArgument("\(url.path) is not readable JSON")
            }
            return obj
        }
        if let modules = try json("modules.json") {
            guard let list = modules as? [[String: Any]] else {
                throw InferenceError.invalidArgument("modules.json is not a list of modules")
            }
            for module in list {
                let type = (module["type"] as? String ?? "").split(separator: ".").last.map(String.init) ?? ""
                switch type {
                case "Transformer":
                    break
                case "Pooling":
                    let path = (module["path"] as? String ?? "1_Pooling") + "/config.json"
                    guard let config = try json(path) as? [String: Any] else {
                        throw InferenceError.invalidArgument("\(path) is missing or not an object")
                    }
                    let modes: [(String, SentencePooling)] = [("pooling_mode_mean_tokens", .mean), ("pooling_mode_cls_token", .cls),
                                                             ("pooling_mode_max_tokens", .max),
                                                             ("pooling_mode_mean_sqrt_len_tokens", .meanSqrtLength)]
                    let on = modes.filter { (config[$0.0] as? Bool) == true }
                    guard on.count == 1 else {
                        throw InferenceError.invalidArgument("\(path) turns on \(on.map(\.0)); exactly one pooling mode is supported")
                    }
                    pooling = on[0].1
                case "Normalize":
                    normalizes = true
                default:
                    throw InferenceError.invalidArgument("modules.json names a \(type.isEmpty ? "module without a type" : type) module, which is not supported (Transformer, Pooling, Normalize)")
                }
            }
        }
        var limit = tokenizer.maxLength ?? forward.weights.maxLength
        if let st = try json("sentence_bert_config.json") as? [String: Any], let n = (st["max_seq_length"] as? NSNumber)?.intValue {
            limit = n
        }
        tokenizer.maxLength = Swift.min(limit, forward.weights.maxLength)
    }

    /// The token ids of `text` as the pipeline gives them ([CLS] … [SEP], truncated).
    public func tokenize(_ text: String) -> [Int32] { tokenizer.encode(text) }

    /// The embeddings of `texts` (texts × d).
    public func embed(_ texts: [String], progress: ProgressReporter = .none) throws -> Matrix {
        try forward.embed(texts.map(tokenize), pooling: pooling, normalize: normalizes, progress: progress)
    }

    /// The embedding of one text (d values).
    public func embed(_ text: String) throws -> [Float] {
        try embed([text]).data
    }

    /// The cosine similarity of the embeddings of two texts.
    public func similarity(_ a: String, _ b: String) throws -> Double {
        let m = try embed([a, b])
        return try SentenceEmbedding.cosineSimilarity(m.row(0), m.row(1))
    }
}
