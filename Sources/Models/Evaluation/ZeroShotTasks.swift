import Foundation

/// The zero-shot multiple-choice tasks, read from the data folder (../shared/data) and put in
/// lm-evaluation-harness's prompt format, as the golden README's `zeroshot.json` section gives it.
public enum ZeroShotTask: String, CaseIterable, Sendable {
    /// PIQA validation: `"Question: {goal}\nAnswer:"`, choices `sol1`/`sol2`.
    case piqa
    /// HellaSwag validation (preprocessed): the `query` as given, choices its four `endings`.
    case hellaswag
    /// ARC-Easy test: `"Question: {question}\nAnswer:"`, choices `choices.text` (3–5).
    case arcEasy = "arc_easy"
    /// ARC-Challenge test, as ARC-Easy.
    case arcChallenge = "arc_challenge"
    /// WinoGrande dev by partial scoring: each option fills the blank of the context, and the
    /// shared rest of the sentence is the continuation scored.
    case winogrande

    /// The task names `ZeroShotTask(name:)` accepts, in the order lm-eval's papers list them.
    public static let names = allCases.map(\.rawValue)

    /// The task called `name` (case-insensitive; `-` may stand for `_`, and "arc-e"/"arc-c" are
    /// accepted); throws `ZeroShotError.unknownTask` listing the known names otherwise.
    public init(name: String) throws {
        let key = name.lowercased().replacingOccurrences(of: "-", with: "_").trimmingCharacters(in: .whitespaces)
        switch key {
        case "arc_e", "arceasy": self = .arcEasy
        case "arc_c", "arcchallenge": self = .arcChallenge
        default:
            guard let task = ZeroShotTask(rawValue: key) else {
                throw ZeroShotError.unknownTask(name, known: ZeroShotTask.names)
            }
            self = task
        }
    }

    /// Whether the task reports `acc_norm` (every task but WinoGrande, whose metric is acc only).
    public var reportsAccNorm: Bool { self != .winogrande }

    /// The data files the task reads, relative to the data folder.
    public var files: [String] {
        switch self {
        case .piqa: return ["piqa/valid.jsonl", "piqa/valid-labels.lst"]
        case .hellaswag: return ["hellaswag/hellaswag_val_preprocessed.jsonl"]
        case .arcEasy: return ["arc/ARC-Easy-test.jsonl"]
        case .arcChallenge: return ["arc/ARC-Challenge-test.jsonl"]
        case .winogrande: return ["winogrande/dev.jsonl", "winogrande/dev-labels.lst"]
        }
    }

    /// The first `limit` examples (all when nil) of the task in file order, read from `dataFolder`.
    public func examples(limit: Int? = nil, dataFolder: String = DataCatalog.folder) throws -> [ZeroShotExample] {
        if let limit, limit < 1 { throw ZeroShotError.invalidArgument("limit must be at least 1, got \(limit)") }
        let base = URL(fileURLWithPath: dataFolder)
        let paths = files.map { base.appendingPathComponent($0).path }
        for path in paths where !FileManager.default.fileExists(atPath: path) {
            throw ZeroShotError.missingData(task: rawValue, path: path)
        }
        let rows = try ZeroShotTask.jsonLines(paths[0], limit: limit)
        switch self {
        case .piqa:
            let labels = try ZeroShotTask.labels(paths[1], limit: rows.count)
            return try zip(rows, labels).map { row, label in
                let (line, obj) = row
                let goal = try ZeroShotTask.string(obj, "goal", paths[0], line)
                let choices = [try ZeroShotTask.string(obj, "sol1", paths[0], line), try ZeroShotTask.string(obj, "sol2", paths[0], line)]
                guard (0..<2).contains(label) else {
                    throw ZeroShotError.malformedData(path: paths[1], line: line, message: "label \(label) is not 0 or 1")
                }
                return ZeroShotExample(id: nil, contexts: Array(repeating: "Question: \(goal)\nAnswer:", count: 2),
                                       continuations: choices.map { " " + $0 }, choices: choices, gold: label)
            }
        case .arcEasy, .arcChallenge:
            return try rows.map { line, obj in
                let question = try ZeroShotTask.string(obj, "question", paths[0], line)
                guard let choices = obj["choices"] as? [String: Any], let texts = choices["text"] as? [String],
                      let labels = choices["label"] as? [String], texts.count == labels.count, texts.count >= 2 else {
                    throw ZeroShotError.malformedData(path: paths[0], line: line, message: "choices need equal-length text and label lists")
                }
                let key = try ZeroShotTask.string(obj, "answerKey", paths[0], line)
                guard let gold = labels.firstIndex(of: key) else {
                    throw ZeroShotError.malformedData(path: paths[0], line: line, message: "answerKey \(key) is not among the labels \(labels)")
                }
                return ZeroShotExample(id: obj["id"] as? String,
                                       contexts: Array(repeating: "Question: \(question)\nAnswer:", count: texts.count),
                                       continuations: texts.map { " " + $0 }, choices: texts, gold: gold)
            }
        case .hellaswag:
            return try rows.map { line, obj in
                let query = try ZeroShotTask.string(obj, "query", paths[0], line)
                guard let endings = obj["endings"] as? [String], endings.count >= 2 else {
                    throw ZeroShotError.malformedData(path: paths[0], line: line, message: "endings must be a list of strings")
                }
                guard let gold = ZeroShotTask.integer(obj["label"]), endings.indices.contains(gold) else {
                    throw ZeroShotError.malformedData(path: paths[0], line: line, message: "label must be an index into endings")
                }
                return ZeroShotExample(id: ZeroShotTask.integer(obj["idx"]).map(String.init),
                                       contexts: Array(repeating: query, count: endings.count),
                                       continuations: endings.map { " " + $0 }, choices: endings, gold: gold)
            }
        case .winogrande:
            let labels = try ZeroShotTask.labels(paths[1], limit: rows.count)
            return try zip(rows, labels).map { row, label in
                let (line, obj) = row
                let sentence = try ZeroShotTask.string(obj, "sentence", paths[0], line)
                let options = [try ZeroShotTask.string(obj, "option1", paths[0], line), try ZeroShotTask.string(obj, "option2", paths[0], line)]
                if let answer = ZeroShotTask.integer(obj["answer"]), answer != label {
                    throw ZeroShotError.malformedData(path: paths[0], line: line, message: "answer \(answer) disagrees with the label file's \(label)")
                }
                guard label == 1 || label == 2 else {
                    throw ZeroShotError.malformedData(path: paths[1], line: line, message: "label \(label) is not 1 or 2")
                }
                // Python's s.index("_"), s[:i], s[i+1:].strip(), on code points.
                let scalars = Array(sentence.unicodeScalars)
                guard let blank = scalars.firstIndex(of: "_") else {
                    throw ZeroShotError.malformedData(path: paths[0], line: line, message: "the sentence has no blank '_'")
                }
                let before = ZeroShotTask.string(scalars[..<blank])
                let after = PythonText.strip(ZeroShotTask.string(scalars[(blank + 1)...]))
                let contexts = options.map { before + $0 }
                return ZeroShotExample(id: obj["qID"] as? String, contexts: contexts,
                                       continuations: [" " + after, " " + after], choices: contexts, gold: label - 1)
            }
        }
    }

    // MARK: Reading

    /// The first `limit` non-blank lines of a JSON-lines file, each with its 1-based line number.
    static func jsonLines(_ path: String, limit: Int?) throws -> [(Int, [String: Any])] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ZeroShotError.missingData(task: nil, path: path) }
        var out: [(Int, [String: Any])] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if let limit, out.count >= limit { break }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
                throw ZeroShotError.malformedData(path: path, line: lineNumber, message: "not a JSON object")
            }
            out.append((lineNumber, obj))
        }
        return out
    }

    /// The first `limit` integer labels of a one-per-line label file (blank lines skipped).
    static func labels(_ path: String, limit: Int) throws -> [Int] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ZeroShotError.missingData(task: nil, path: path) }
        var out: [Int] = []
        var lineNumber = 0
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if out.count >= limit { break }
            let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { continue }
            guard let value = Int(text) else {
                throw ZeroShotError.malformedData(path: path, line: lineNumber, message: "'\(text)' is not an integer label")
            }
            out.append(value)
        }
        guard out.count == limit else {
            throw ZeroShotError.malformedData(path: path, line: lineNumber, message: "\(out.count) labels for \(limit) examples")
        }
        return out
    }

    static func string(_ obj: [String: Any], _ key: String, _ path: String, _ line: Int) throws -> String {
        guard let value = obj[key] as? String else {
            throw ZeroShotError.malformedData(path: path, line: line, message: "field '\(key)' is missing or not a string")
        }
        return value
    }

    static func integer(_ value: Any?) -> Int? {
        if let s = value as? String { return Int(s.trimmingCharacters(in: .whitespaces)) }
        if let n = value as? NSNumber { return n.intValue }
        if let i = value as? Int { return i }
        return nil
    }

    static func string<S: Sequence>(_ scalars: S) -> String where S.Element == Unicode.Scalar {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars)
        return String(s)
    }
}

/// One multiple-choice example: a context and a continuation per choice (they differ in the
/// context for WinoGrande's partial scoring, in the continuation otherwise), the lm-eval
/// `doc_to_choice` strings whose length normalises `acc_norm`, and the gold choice.
public struct ZeroShotExample: Sendable, Equatable {
    /// The data's id for the example, where it has one.
    public var id: String?
    /// The context of each choice.
    public var contexts: [String]
    /// The continuation of each choice (with its leading delimiter space).
    public var continuations: [String]
    /// lm-eval's choice strings (no leading space): their length in code points divides the
    /// log-likelihood for `acc_norm`.
    public var choices: [String]
    /// The index of the right choice.
    public var gold: Int

    /// An example from its parts (one context, continuation and choice string per choice).
    public init(id: String? = nil, contexts: [String], continuations: [String], choices: [String], gold: Int) {
        self.id = id
        self.contexts = contexts
        self.continuations = continuations
        self.choices = choices
        self.gold = gold
    }
}

/// What goes wrong reading or scoring a zero-shot task.
public enum ZeroShotError: Error, CustomStringConvertible, Equatable {
    /// A task name that is not one of `known`.
    case unknownTask(String, known: [String])
    /// A data file that is not there.
    case missingData(task: String?, path: String)
    /// A data file whose content is not what the task expects.
    case malformedData(path: String, line: Int, message: String)
    /// An argument out of range (limit, an example's shape).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .unknownTask(name, known):
            return "unknown zero-shot task '\(name)'; the known tasks are \(known.joined(separator: ", "))"
        case let .missingData(task, path):
            return "\(task.map { "task \($0): " } ?? "")data file not found: \(path) (set PRUNELANG_DATA to the data folder)"
        case let .malformedData(path, line, message):
            return "\(path):\(line): \(message)"
        case let .invalidArgument(message):
            return message
        }
    }
}

/// Python's whitespace handling on code points (`str.isspace`), for the prompt formats.
enum PythonText {
    /// `s.strip()`.
    static func strip(_ s: String) -> String {
        let scalars = Array(s.unicodeScalars)
        guard let first = scalars.firstIndex(where: { !DataCatalog.isPythonSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !DataCatalog.isPythonSpace($0) })!
        return ZeroShotTask.string(scalars[first...last])
    }

    /// The number of trailing whitespace code points (`len(s) - len(s.rstrip())`).
    static func trailingSpaceCount(_ s: String) -> Int {
        var n = 0
        for scalar in s.unicodeScalars.reversed() {
            guard DataCatalog.isPythonSpace(scalar) else { break }
            n += 1
        }
        return n
    }
}
