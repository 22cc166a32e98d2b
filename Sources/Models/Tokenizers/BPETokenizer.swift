/// GPT-2 byte-level BPE built from a GGUF file's `tokenizer.ggml.*` metadata, producing the same
/// token ids as llama.cpp (`llama_tokenize`) for SmolLM2's "smollm" pre-tokenizer: text is split
/// at special tokens (control tokens only when asked), each piece is cut into words by the
/// pre-tokenizer, each word's UTF-8 bytes are written in the byte-level alphabet and merged by
/// rank. Decoding maps tokens back to bytes.
public struct BPETokenizer: Sendable {
    /// A token's kind, as `tokenizer.ggml.token_type` gives it (llama.cpp's `llama_token_type`).
    public enum TokenType: Int32, Sendable {
        /// Not given.
        case undefined = 0
        /// An ordinary vocabulary entry.
        case normal = 1
        /// The unknown token.
        case unknown = 2
        /// A control token such as `<|im_start|>`: matched in text only with `special: true`, and
        /// decoded to nothing unless asked.
        case control = 3
        /// A user-defined token: always matched in text before pre-tokenization.
        case userDefined = 4
        /// A reserved, unused entry.
        case unused = 5
        /// A byte-fallback token `<0xXX>`.
        case byte = 6
    }

    /// The vocabulary entries as the GGUF stores them (byte-level text, e.g. `Ġthe`).
    public let tokens: [String]
    /// Each token's kind.
    public let tokenTypes: [TokenType]
    /// The beginning-of-sequence token (`tokenizer.ggml.bos_token_id`), if the file names one.
    public let bosID: Int32?
    /// The end-of-sequence token (`tokenizer.ggml.eos_token_id`), if the file names one.
    public let eosID: Int32?
    /// The unknown token (`tokenizer.ggml.unknown_token_id`), if the file names one.
    public let unkID: Int32?
    /// The padding token (`tokenizer.ggml.padding_token_id`), if the file names one.
    public let padID: Int32?
    /// Whether the model wants a BOS token in front (`tokenizer.ggml.add_bos_token`; false if absent).
    public let addsBOSByDefault: Bool
    /// The pre-tokenizer name (`tokenizer.ggml.pre`).
    public let preTokenizerName: String

    /// Token text (UTF-8) → id; keyed on bytes, since Swift's String equality would match
    /// canonically equivalent spellings that are different tokens.
    private let idForText: [[UInt8]: Int32]
    /// The merge table, on token ids (and ids past the vocabulary for merge texts it lacks).
    private let merges: BPEMerges
    /// Texts of the ids past the vocabulary: merge operands or results that are not tokens.
    private let extraTexts: [String]
    /// The id of each byte's byte-level character.
    private let byteTokenIDs: [Int32]
    /// The bytes each token decodes to (control tokens: their text).
    private let pieceTable: [[UInt8]]
    /// Special tokens matched in text with `special: true`, longest first: (UTF-8, id).
    private let specialMatchers: [([UInt8], Int32)]
    /// Tokens matched in text whatever `special` says (user-defined ones), longest first.
    private let userMatchers: [([UInt8], Int32)]
    /// Whether the "\p{N}" pass runs before the GPT-2 expression.
    private let splitsDigits: Bool

    /// The number of tokens in the vocabulary.
    public var vocabularySize: Int { tokens.count }

    /// Pre-tokenizer names whose expressions are llama.cpp's digit pass plus GPT-2's expression.
    static let digitSplittingPreTokenizers: Set<String> = [
        "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva", "mellum2"]
    /// Pre-tokenizer names that use GPT-2's expression alone.
    static let gpt2PreTokenizers: Set<String> = ["gpt2", "mpt", "olmo", "jais", "trillion", "granite-docling"]

    /// Builds the tokenizer from `gguf`'s metadata; throws `TokenizerError` naming the key when a
    /// required key is missing or malformed, or the tokenizer is not a byte-level BPE with a
    /// supported pre-tokenizer.
    public init(gguf: GGUFFile) throws {
        try self.init(metadata: { gguf[$0] })
    }

    /// Builds the tokenizer from metadata looked up by `value(key)` (the keys of a GGUF file).
    public init(metadata value: (String) -> GGUFValue?) throws {
        func require(_ key: String) throws -> GGUFValue {
            guard let v = value(key) else { throw TokenizerError(.missing, field: key, "key not found in the GGUF metadata") }
            return v
        }
        func stringArray(_ key: String) throws -> [String] {
            let v = try require(key)
            guard let a = v.array else {
                throw TokenizerError(.wrongType, field: key, "expected an array of strings, found \(v.type)")
            }
            guard let s = a.strings else {
                throw TokenizerError(.wrongType, field: key, "expected an array of strings, found an array of \(a.elementType)")
            }
            return s
        }

        let modelKey = GGUFKey.tokenizerModel
        let model = try require(modelKey)
        guard let modelName = model.string else {
            throw TokenizerError(.wrongType, field: modelKey, "expected a string, found \(model.type)")
        }
        guard modelName == "gpt2" else {
            throw TokenizerError(.unsupported, field: modelKey, "\"\(modelName)\" is not a byte-level BPE (\"gpt2\") tokenizer")
        }
        let preKey = GGUFKey.tokenizerPre
        var pre = "default"
        if let p = value(preKey) {
            guard let s = p.string else { throw TokenizerError(.wrongType, field: preKey, "expected a string, found \(p.type)") }
            pre = s
        }
        if Self.digitSplittingPreTokenizers.contains(pre) {
            splitsDigits = true
        } else if Self.gpt2PreTokenizers.contains(pre) {
            splitsDigits = false
        } else {
            throw TokenizerError(.unsupported, field: preKey,
                                 "pre-tokenizer \"\(pre)\" is not implemented (supported: \((Self.digitSplittingPreTokenizers.union(Self.gpt2PreTokenizers)).sorted().joined(separator: ", ")))")
        }
        preTokenizerName = pre

        let tokensKey = GGUFKey.tokens
        let tokens = try stringArray(tokensKey)
        guard !tokens.isEmpty else { throw TokenizerError(.malformed, field: tokensKey, "the vocabulary is empty") }
        guard tokens.count < Int(Int32.max) / 2 else {
            throw TokenizerError(.malformed, field: tokensKey, "\(tokens.count) tokens is more than a token id can address")
        }
        var idForText: [[UInt8]: Int32] = [:]
        idForText.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() {
            if let j = idForText.updateValue(Int32(i), forKey: Array(t.utf8)) {
                throw TokenizerError(.malformed, field: "\(tokensKey)[\(i)]", "duplicate of token \(j) (\"\(t)\")")
            }
        }
        self.tokens = tokens
        self.idForText = idForText

        let typesKey = GGUFKey.tokenTypes
        if let tv = value(typesKey) {
            guard let a = tv.array, let ints = a.ints else {
                throw TokenizerError(.wrongType, field: typesKey, "expected an array of integers, found \(tv.array.map { "an array of \($0.elementType)" } ?? "\(tv.type)")")
            }
            guard ints.count == tokens.count else {
                throw TokenizerError(.malformed, field: typesKey, "has \(ints.count) entries for \(tokens.count) tokens")
            }
            var types: [TokenType] = []
            types.reserveCapacity(ints.count)
            for (i, t) in ints.enumerated() {
                guard let tt = Int32(exactly: t).flatMap(TokenType.init(rawValue:)) else {
                    throw TokenizerError(.malformed, field: "\(typesKey)[\(i)]", "unknown token type \(t) (expected 0…6)")
                }
                types.append(tt)
            }
            tokenTypes = types
        } else {
            tokenTypes = [TokenType](repeating: .normal, count: tokens.count)
        }

        func optionalID(_ key: String) throws -> Int32? {
            guard let v = value(key) else { return nil }
            guard let i = v.int else { throw TokenizerError(.wrongType, field: key, "expected an integer token id, found \(v.type)") }
            guard i >= 0 && i < tokens.count else {
                throw TokenizerError(.malformed, field: key, "token id \(i) is outside the vocabulary (0..<\(tokens.count))")
            }
            return Int32(i)
        }
        bosID = try optionalID(GGUFKey.bosTokenID)
        eosID = try optionalID(GGUFKey.eosTokenID)
        unkID = try optionalID(GGUFKey.unknownTokenID)
        padID = try optionalID(GGUFKey.paddingTokenID)
        let addBOSKey = GGUFKey.addBOSToken
        if let v = value(addBOSKey) {
            guard let b = v.bool else { throw TokenizerError(.wrongType, field: addBOSKey, "expected a bool, found \(v.type)") }
            addsBOSByDefault = b
        } else {
            addsBOSByDefault = false
        }

        // Ids for texts the merges or byte alphabet need but the vocabulary lacks.
        var extra: [String] = []
        var extraIDs: [[UInt8]: Int32] = [:]
        func id(_ text: String) -> Int32 {
            let key = Array(text.utf8)
            if let i = idForText[key] { return i }
            if let i = extraIDs[key] { return i }
            let i = Int32(tokens.count + extra.count)
            extra.append(text)
            extraIDs[key] = i
            return i
        }
        byteTokenIDs = ByteLevel.scalarForByte.map { id(String(Character(Unicode.Scalar($0)!))) }

        let mergesKey = GGUFKey.merges
        let mergeTexts = try stringArray(mergesKey)
        var table = BPEMerges()
        for (rank, m) in mergeTexts.enumerated() {
            // llama.cpp splits at the first space after the first byte.
            let u = Array(m.utf8)
            guard u.count > 1, let sep = u[1...].firstIndex(of: 0x20) else {
                throw TokenizerError(.malformed, field: "\(mergesKey)[\(rank)]", "\"\(m)\" is not two tokens separated by a space")
            }
            let a = String(decoding: u[..<sep], as: UTF8.self)
            let b = String(decoding: u[(sep + 1)...], as: UTF8.self)
            table.add(left: id(a), right: id(b), merged: id(a + b), rank: Int32(rank))
        }
        merges = table
        extraTexts = extra

        var pieces: [[UInt8]] = []
        pieces.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() {
            pieces.append(Self.bytesOfPiece(text: t, type: tokenTypes[i]))
        }
        pieceTable = pieces

        var special: [([UInt8], Int32)] = []
        var user: [([UInt8], Int32)] = []
        for (i, t) in tokens.enumerated() where !t.isEmpty {
            switch tokenTypes[i] {
            case .control, .unknown: special.append((Array(t.utf8), Int32(i)))
            case .userDefined: special.append((Array(t.utf8), Int32(i))); user.append((Array(t.utf8), Int32(i)))
            default: break
            }
        }
        let longestFirst: (([UInt8], Int32), ([UInt8], Int32)) -> Bool = {
            $0.0.count != $1.0.count ? $0.0.count > $1.0.count : $0.1 < $1.1
        }
        specialMatchers = special.sorted(by: longestFirst)
        userMatchers = user.sorted(by: longestFirst)
    }

    /// The bytes a token stands for in decoded text: byte-level text mapped back to bytes for
    /// normal tokens, the text itself for control, unknown and user-defined tokens, the byte of
    /// a `<0xXX>` token, nothing for unused and undefined ones.
    private static func bytesOfPiece(text: String, type: TokenType) -> [UInt8] {
        switch type {
        case .control, .unknown, .userDefined:
            return Array(text.utf8)
        case .normal:
            var out: [UInt8] = []
            for s in text.unicodeScalars {
                if let b = ByteLevel.byte(for: s) {
                    out.append(b)
                } else {
                    // llama.cpp's marker for a character outside the byte-level alphabet.
                    let hex = String(s).utf8.map { String($0, radix: 16).leftPadded(2) }.joined()
                    out.append(contentsOf: Array("[UNK_BYTE_0x\(hex)\(text)]".utf8))
                }
            }
            return out
        case .byte:
            let u = Array(text.utf8)
            if u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E,
               let b = UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16) {
                return [b]
            }
            return []
        case .unused, .undefined:
            return []
        }
    }

    // MARK: Encoding

    /// The token ids of `text`, as llama.cpp's `llama_tokenize(text, add_special: addBOS,
    /// parse_special: special)` gives them. With `special`, control tokens written in the text
    /// (e.g. `<|im_start|>`) become their ids; without, they are ordinary text. `addBOS` puts the
    /// BOS token in front (when the vocabulary has one).
    public func encode(_ text: String, special: Bool = false, addBOS: Bool = false) -> [Int32] {
        var out: [Int32] = []
        if addBOS, let bos = bosID { out.append(bos) }
        var bytes = Array(text.utf8)
        if bytes.isEmpty { return out }
        out.reserveCapacity(bytes.count / 3 + 4)
        bytes.withUnsafeMutableBufferPointer { buffer in
            let utf8 = UnsafeBufferPointer(buffer)
            var state = EncodeState()
            for fragment in partition(utf8, special: special) {
                switch fragment {
                case let .token(id): out.append(id)
                case let .text(range): encodeText(utf8, range, &state, &out)
                }
            }
        }
        return out
    }

    /// A piece of the input after special tokens are cut out.
    private enum Fragment {
        case text(Range<Int>)
        case token(Int32)
    }

    /// Cuts `utf8` at every occurrence of a special token, longest tokens first, each token's
    /// occurrences left to right (llama.cpp's `tokenizer_st_partition`).
    private func partition(_ utf8: UnsafeBufferPointer<UInt8>, special: Bool) -> [Fragment] {
        var fragments: [Fragment] = [.text(0..<utf8.count)]
        for (pattern, id) in special ? specialMatchers : userMatchers {
            var next: [Fragment] = []
            next.reserveCapacity(fragments.count)
            for f in fragments {
                guard case let .text(range) = f else { next.append(f); continue }
                var start = range.lowerBound
                var i = start
                let last = range.upperBound - pattern.count
                let first = pattern[0]
                while i <= last {
                    if utf8[i] == first && Self.matches(utf8, at: i, pattern) {
                        if i > start { next.append(.text(start..<i)) }
                        next.append(.token(id))
                        i += pattern.count
                        start = i
                    } else {
                        i += 1
                    }
                }
                if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
            }
            fragments = next
        }
        return fragments
    }

    @inline(__always)
    private static func matches(_ utf8: UnsafeBufferPointer<UInt8>, at i: Int, _ pattern: [UInt8]) -> Bool {
        for k in 1..<max(pattern.count, 1) where utf8[i + k] != pattern[k] { return false }
        return true
    }

    /// Buffers reused across the pieces of one `encode` call, and its word cache.
    private struct EncodeState {
        var scalars: [UInt32] = []
        var classes: [UInt8] = []
        var offsets: [Int] = []
        var ends: [Int] = []
        var symbols: [Int32] = []
        var cache: [ArraySlice<UInt8>: [Int32]] = [:]
    }

    /// Pre-tokenizes and merges the text `utf8[range]` (valid UTF-8, no special tokens).
    private func encodeText(_ utf8: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
                            _ state: inout EncodeState, _ out: inout [Int32]) {
        state.scalars.removeAll(keepingCapacity: true)
        state.classes.removeAll(keepingCapacity: true)
        state.offsets.removeAll(keepingCapacity: true)
        state.ends.removeAll(keepingCapacity: true)
        // Decode UTF-8 (the input came from a Swift String, so it is well formed).
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let b0 = UInt32(utf8[i])
            var v: UInt32
            var len: Int
            if b0 < 0x80 { v = b0; len = 1 }
            else if b0 < 0xE0 { v = (b0 & 0x1F) << 6 | UInt32(utf8[i + 1] & 0x3F); len = 2 }
            else if b0 < 0xF0 {
                v = (b0 & 0x0F) << 12 | UInt32(utf8[i + 1] & 0x3F) << 6 | UInt32(utf8[i + 2] & 0x3F); len = 3
            } else {
                v = (b0 & 0x07) << 18 | UInt32(utf8[i + 1] & 0x3F) << 12 | UInt32(utf8[i + 2] & 0x3F) << 6
                    | UInt32(utf8[i + 3] & 0x3F)
                len = 4
            }
            state.scalars.append(v)
            state.classes.append(ScalarClass.of(v))
            state.offsets.append(i)
            i += len
        }
        state.offsets.append(end)

        let pre = SmolLMPreTokenizer()
        state.scalars.withUnsafeBufferPointer { cps in
            state.classes.withUnsafeBufferPointer { cls in
                if splitsDigits {
                    pre.wordEnds(cps, cls, into: &state.ends)
                } else {
                    pre.gpt2Words(cps, cls, into: &state.ends)
                }
            }
        }

        var wordStart = 0
        for wordEnd in state.ends {
            let bytes = utf8[state.offsets[wordStart]..<state.offsets[wordEnd]]
            wordStart = wordEnd
            let key = ArraySlice(bytes)
            if let cached = state.cache[key] {
                out.append(contentsOf: cached)
                continue
            }
            state.symbols.removeAll(keepingCapacity: true)
            for b in bytes { state.symbols.append(byteTokenIDs[Int(b)]) }
            merges.merge(&state.symbols)
            let before = out.count
            for s in state.symbols { appendSymbol(s, &out) }
            state.cache[key] = Array(out[before...])
        }
    }

    /// Appends a merged symbol: its id, or for a text the vocabulary lacks, the ids of its
    /// single-byte characters that are tokens (what llama.cpp falls back to).
    @inline(__always)
    private func appendSymbol(_ s: Int32, _ out: inout [Int32]) {
        if Int(s) < tokens.count { out.append(s); return }
        for b in extraTexts[Int(s) - tokens.count].utf8 where b < 0x80 {
            if let id = idForText[[b]] { out.append(id) }
        }
    }

    // MARK: Decoding

    /// The bytes of `ids` as text, as llama.cpp's `llama_detokenize` gives them: control and
    /// unknown tokens are left out unless `special` is true. Ids outside the vocabulary are skipped.
    public func decodeBytes(_ ids: [Int32], special: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        for id in ids where id >= 0 && Int(id) < tokens.count {
            if !special, tokenTypes[Int(id)] == .control || tokenTypes[Int(id)] == .unknown { continue }
            out.append(contentsOf: pieceTable[Int(id)])
        }
        return out
    }

    /// The text of `ids` (see `decodeBytes`); byte sequences that are not valid UTF-8, such as
    /// half of a character split across a cut, become U+FFFD.
    public func decode(_ ids: [Int32], special: Bool = false) -> String {
        String(decoding: decodeBytes(ids, special: special), as: UTF8.self)
    }

    /// The bytes one token stands for (`llama_token_to_piece` with special tokens shown);
    /// empty for an id outside the vocabulary.
    public func pieceBytes(_ id: Int32) -> [UInt8] {
        id >= 0 && Int(id) < tokens.count ? pieceTable[Int(id)] : []
    }

    /// One token as text (its bytes decoded as UTF-8, U+FFFD for a partial character); special
    /// tokens show as written, e.g. `<|im_end|>`.
    public func piece(_ id: Int32) -> String {
        String(decoding: pieceBytes(id), as: UTF8.self)
    }

    /// The id of the vocabulary entry written `text` (byte-level form, e.g. `Ġthe`), or nil.
    public func id(of text: String) -> Int32? { idForText[Array(text.utf8)] }
}

extension String {
    /// The string left-padded with zeros to `width` characters.
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
