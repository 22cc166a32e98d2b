import Foundation

extension WordPieceTokenizer {
    /// Reads a Hugging Face `tokenizer.json` with a WordPiece model, a `BertNormalizer` (or none),
    /// a `BertPreTokenizer` (or none), a `TemplateProcessing` or `BertProcessing` post-processor (or none),
    /// its added tokens, its truncation length (512 when it sets none; padding is ignored) and
    /// its WordPiece decoder. Throws `TokenizerError` naming the field that is missing, of the
    /// wrong type, or not supported.
    public init(tokenizerJSON url: URL) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TokenizerError(.unreadable, field: url.path, "cannot read the file")
        }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw TokenizerError(.unreadable, field: url.path, "not valid JSON (\(error.localizedDescription))")
        }
        let root = try JSONFields(parsed, path: "tokenizer.json")

        // The model.
        let model = try root.object("model")
        let type = try model.optionalString("type") ?? "WordPiece"
        guard type == "WordPiece" else {
            throw TokenizerError(.unsupported, field: "model.type", "\"\(type)\" is not a WordPiece model")
        }
        let vocabFields = try model.object("vocab")
        var vocab: [(String, Int32)] = []
        vocab.reserveCapacity(vocabFields.dictionary.count)
        for (token, value) in vocabFields.dictionary {
            guard let n = value as? NSNumber, !JSONFields.isBool(value), let id = Int32(exactly: n.doubleValue) else {
                throw TokenizerError(.wrongType, field: "model.vocab[\"\(token)\"]", "expected an integer id, found \(JSONFields.describe(value))")
            }
            vocab.append((token, id))
        }
        let unk = try model.optionalString("unk_token") ?? "[UNK]"
        let prefix = try model.optionalString("continuing_subword_prefix") ?? "##"
        let maxChars = try model.optionalInt("max_input_chars_per_word") ?? 100

        // The normalizer.
        var normalizer: BertNormalizer?
        if let n = try root.optionalObject("normalizer") {
            let t = try n.string("type")
            guard t == "BertNormalizer" else {
                throw TokenizerError(.unsupported, field: "normalizer.type", "\"\(t)\" is not implemented (only BertNormalizer)")
            }
            let lowercase = try n.optionalBool("lowercase") ?? true
            normalizer = BertNormalizer(cleanText: try n.optionalBool("clean_text") ?? true,
                                        handleChineseChars: try n.optionalBool("handle_chinese_chars") ?? true,
                                        stripAccents: try n.optionalBool("strip_accents"), lowercase: lowercase)
        }

        // The pre-tokenizer.
        var preTokenizes = false
        if let p = try root.optionalObject("pre_tokenizer") {
            preTokenizes = true
            let t = try p.string("type")
            guard t == "BertPreTokenizer" else {
                throw TokenizerError(.unsupported, field: "pre_tokenizer.type", "\"\(t)\" is not implemented (only BertPreTokenizer)")
            }
        }

        // Added tokens.
        var added: [AddedToken] = []
        for (i, item) in try root.optionalArray("added_tokens").enumerated() {
            let a = try JSONFields(item, path: "added_tokens[\(i)]")
            let id = try a.int("id")
            guard let id32 = Int32(exactly: id), id32 >= 0 else {
                throw TokenizerError(.malformed, field: "added_tokens[\(i)].id", "\(id) is not a valid token id")
            }
            added.append(AddedToken(id: id32, content: try a.string("content"),
                                    special: try a.optionalBool("special") ?? false,
                                    singleWord: try a.optionalBool("single_word") ?? false,
                                    lstrip: try a.optionalBool("lstrip") ?? false,
                                    rstrip: try a.optionalBool("rstrip") ?? false,
                                    normalized: try a.optionalBool("normalized") ?? false))
        }

        // The post-processor: which ids go around a single sequence.
        var before: [Int32] = [], after: [Int32] = []
        if let p = try root.optionalObject("post_processor") {
            let t = try p.string("type")
            switch t {
            case "TemplateProcessing":
                let specials = try p.optionalObject("special_tokens")
                var seenSequence = false
                for (i, item) in try p.array("single").enumerated() {
                    let piece = try JSONFields(item, path: "post_processor.single[\(i)]")
                    if try piece.optionalObject("Sequence") != nil {
                        seenSequence = true
                    } else if let s = try piece.optionalObject("SpecialToken") {
                        let name = try s.string("id")
                        guard let entry = try specials?.optionalObject(name) else {
                            throw TokenizerError(.missing, field: "post_processor.special_tokens", "no entry for \"\(name)\"")
                        }
                        let ids = try entry.array("ids").enumerated().map { j, v -> Int32 in
                            guard let n = v as? NSNumber, !JSONFields.isBool(v), let id = Int32(exactly: n.doubleValue) else {
                                throw TokenizerError(.wrongType, field: "post_processor.special_tokens.\(name).ids[\(j)]", "expected an integer id")
                            }
                            return id
                        }
                        if seenSequence { after += ids } else { before += ids }
                    } else {
                        throw TokenizerError(.malformed, field: piece.path, "expected a Sequence or a SpecialToken")
                    }
                }
            case "BertProcessing":
                func pair(_ key: String) throws -> Int32 {
                    let a = try p.array(key)
                    guard a.count == 2, let n = a[1] as? NSNumber, let id = Int32(exactly: n.doubleValue) else {
                        throw TokenizerError(.malformed, field: "post_processor.\(key)", "expected [token, id]")
                    }
                    return id
                }
                before = [try pair("cls")]
                after = [try pair("sep")]
            default:
                throw TokenizerError(.unsupported, field: "post_processor.type", "\"\(t)\" is not implemented (TemplateProcessing, BertProcessing)")
            }
        }

        // Truncation (padding is not done: `encode` returns only real tokens).
        var maxLength = 512
        var fromLeft = false
        if let t = try root.optionalObject("truncation") {
            maxLength = try t.int("max_length")
            if let d = try t.optionalString("direction") {
                guard d == "Right" || d == "Left" else {
                    throw TokenizerError(.malformed, field: "truncation.direction", "\"\(d)\" is neither Right nor Left")
                }
                fromLeft = d == "Left"
            }
        }

        // The decoder.
        var wordPieces = false, cleanup = true
        if let d = try root.optionalObject("decoder") {
            let t = try d.string("type")
            guard t == "WordPiece" else {
                throw TokenizerError(.unsupported, field: "decoder.type", "\"\(t)\" is not implemented (only WordPiece)")
            }
            wordPieces = true
            if let p = try d.optionalString("prefix"), p != prefix {
                throw TokenizerError(.unsupported, field: "decoder.prefix", "\"\(p)\" differs from the model's \"\(prefix)\"")
            }
            cleanup = try d.optionalBool("cleanup") ?? true
        }

        try self.init(entries: vocab, unknownToken: unk, continuingSubwordPrefix: prefix,
                      maxInputCharsPerWord: maxChars, normalizer: normalizer, preTokenizes: preTokenizes, addedTokens: added,
                      prefixIDs: before, suffixIDs: after, maxLength: maxLength, truncatesFromLeft: fromLeft,
                      decodesWordPieces: wordPieces, decoderCleanup: cleanup)
    }

    /// Reads a BERT `vocab.txt` (one token per line, the line number is its id) and sets the
    /// tokenizer up as `BertTokenizerFast` does: `[PAD]`, `[UNK]`, `[CLS]`, `[SEP]`, `[MASK]` as
    /// special added tokens, `[CLS] … [SEP]` around each sequence, accents stripped when
    /// `lowercase`, truncation to `maxLength`. Throws `TokenizerError` when the file cannot be read
    /// or lacks `[UNK]`, `[CLS]` or `[SEP]`.
    public init(vocabFile url: URL, lowercase: Bool = true, maxLength: Int = 512) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TokenizerError(.unreadable, field: url.path, "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TokenizerError(.unreadable, field: url.path, "not UTF-8 text")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var entries: [(String, Int32)] = []
        for (i, line) in lines.enumerated() {
            var token = Substring(line)
            while let last = token.unicodeScalars.last, last.properties.isWhitespace {
                token = Substring(token.unicodeScalars.dropLast())
            }
            entries.append((String(token), Int32(i)))   // a repeated token keeps its last line, as in tokenizers
        }
        func id(_ name: String) -> Int32? { entries.last { $0.0.utf8.elementsEqual(name.utf8) }?.1 }
        var added: [AddedToken] = []
        for name in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] {
            if let id = id(name) { added.append(AddedToken(id: id, content: name)) }
        }
        guard let cls = id("[CLS]") else { throw TokenizerError(.missing, field: "\(url.lastPathComponent): [CLS]", "no [CLS] line") }
        guard let sep = id("[SEP]") else { throw TokenizerError(.missing, field: "\(url.lastPathComponent): [SEP]", "no [SEP] line") }
        guard id("[UNK]") != nil else { throw TokenizerError(.missing, field: "\(url.lastPathComponent): [UNK]", "no [UNK] line") }
        try self.init(entries: entries, unknownToken: "[UNK]", continuingSubwordPrefix: "##", maxInputCharsPerWord: 100,
                      normalizer: BertNormalizer(lowercase: lowercase), preTokenizes: true, addedTokens: added,
                      prefixIDs: [cls], suffixIDs: [sep], maxLength: maxLength, truncatesFromLeft: false,
                      decodesWordPieces: true, decoderCleanup: true)
    }
}

/// Typed access to one JSON object of a tokenizer.json, with errors that name the field's path.
struct JSONFields {
    /// The object's entries.
    let dictionary: [String: Any]
    /// Where the object is, e.g. `model` or `added_tokens[2]`.
    let path: String

    /// Wraps `value`, which must be a JSON object.
    init(_ value: Any, path: String) throws {
        guard let d = value as? [String: Any] else {
            throw TokenizerError(.wrongType, field: path, "expected an object, found \(Self.describe(value))")
        }
        dictionary = d
        self.path = path
    }

    /// A short name for a JSON value's type.
    static func describe(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case is String: return "a string"
        case _ where isBool(value): return "a bool"
        case is NSNumber: return "a number"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "\(type(of: value))"
        }
    }

    /// Whether a parsed JSON value is `true` or `false` (Foundation hands both bools and numbers
    /// back as NSNumber; a bool's type code is "c").
    static func isBool(_ value: Any) -> Bool {
        guard let n = value as? NSNumber else { return false }
        return String(cString: n.objCType) == "c"
    }

    private func field(_ key: String) -> String { path == "tokenizer.json" ? key : "\(path).\(key)" }

    /// The entry, nil when absent or null.
    private func value(_ key: String) -> Any? {
        guard let v = dictionary[key], !(v is NSNull) else { return nil }
        return v
    }

    private func missing(_ key: String) -> TokenizerError { TokenizerError(.missing, field: field(key), "field not found") }

    private func wrong(_ key: String, _ expected: String, _ v: Any) -> TokenizerError {
        TokenizerError(.wrongType, field: field(key), "expected \(expected), found \(Self.describe(v))")
    }

    /// A nested object, nil when absent or null.
    func optionalObject(_ key: String) throws -> JSONFields? {
        guard let v = value(key) else { return nil }
        return try JSONFields(v, path: field(key))
    }

    /// A nested object that must be there.
    func object(_ key: String) throws -> JSONFields {
        guard let o = try optionalObject(key) else { throw missing(key) }
        return o
    }

    /// A string, nil when absent or null.
    func optionalString(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v as? String else { throw wrong(key, "a string", v) }
        return s
    }

    /// A string that must be there.
    func string(_ key: String) throws -> String {
        guard let s = try optionalString(key) else { throw missing(key) }
        return s
    }

    /// A bool, nil when absent or null.
    func optionalBool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        guard let n = v as? NSNumber, Self.isBool(v) else { throw wrong(key, "a bool", v) }
        return n.boolValue
    }

    /// An integer, nil when absent or null.
    func optionalInt(_ key: String) throws -> Int? {
        guard let v = value(key) else { return nil }
        guard let n = v as? NSNumber, !JSONFields.isBool(v), let i = Int(exactly: n.doubleValue) else { throw wrong(key, "an integer", v) }
        return i
    }

    /// An integer that must be there.
    func int(_ key: String) throws -> Int {
        guard let i = try optionalInt(key) else { throw missing(key) }
        return i
    }

    /// An array, empty when absent or null.
    func optionalArray(_ key: String) throws -> [Any] {
        guard let v = value(key) else { return [] }
        guard let a = v as? [Any] else { throw wrong(key, "an array", v) }
        return a
    }

    /// An array that must be there.
    func array(_ key: String) throws -> [Any] {
        guard value(key) != nil else { throw missing(key) }
        return try optionalArray(key)
    }
}
