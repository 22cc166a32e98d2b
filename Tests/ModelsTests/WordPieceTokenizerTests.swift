import Foundation
import Testing
import Models

/// The MiniLM-L6 tokenizer files and the `tokenizers` reference ids
/// (Tests/fixtures/make_wordpiece_fixtures.py → minilm_tokens.json).
enum WordPieceTestData {
    /// MiniLM's tokenizer.json.
    static let tokenizerJSON = TestSupport.models.appendingPathComponent("minilm-l6/tokenizer.json")
    /// MiniLM's vocab.txt.
    static let vocabTXT = TestSupport.models.appendingPathComponent("minilm-l6/vocab.txt")

    /// One reference case.
    struct Case: Decodable {
        let text: String
        let ids: [Int32]
        let ids_no_special: [Int32]
        let ids_full: [Int32]
        let tokens: [String]
        let decoded: String
    }

    /// The reference file.
    struct Fixture: Decodable {
        let cases: [Case]
        let truncation_max_length: Int?
        let vocab_size: Int
        let tokenizers_version: String
    }

    /// The reference cases.
    static func fixture() throws -> Fixture {
        let url = TestSupport.fixtures.appendingPathComponent("minilm_tokens.json")
        let data = try #require(FileManager.default.contents(atPath: url.path), "\(url.path) missing")
        return try JSONDecoder().decode(Fixture.self, from: data)
    }

    /// The tokenizer from tokenizer.json; fails clearly when MiniLM has not been fetched.
    static func tokenizer() throws -> WordPieceTokenizer {
        try #require(FileManager.default.fileExists(atPath: tokenizerJSON.path),
                     "MiniLM tokenizer not found at \(tokenizerJSON.path); run scripts/fetch-models")
        return try WordPieceTokenizer(tokenizerJSON: tokenizerJSON)
    }
}

/// BERT WordPiece on MiniLM-L6, checked against Hugging Face `tokenizers` case by case: ids with
/// and without special tokens, truncation, token strings and decoding; plus the vocab.txt set-up
/// and bad input.
struct WordPieceTokenizerTests {
    @Test func everyReferenceCaseMatchesTokenizers() throws {
        let tok = try WordPieceTestData.tokenizer()
        let fixture = try WordPieceTestData.fixture()
        #expect(fixture.cases.count >= 200)
        #expect(tok.vocabularySize == fixture.vocab_size)
        #expect(tok.maxLength == fixture.truncation_max_length)
        var matching = 0
        for c in fixture.cases {
            let ids = tok.encode(c.text)
            #expect(ids == c.ids, "\(c.text.debugDescription): ids")
            if ids == c.ids { matching += 1 }
            #expect(tok.encode(c.text, addSpecialTokens: false) == c.ids_no_special, "\(c.text.debugDescription): no special tokens")
            var untruncated = tok
            untruncated.maxLength = nil
            let full = untruncated.encode(c.text)
            #expect(full == c.ids_full, "\(c.text.debugDescription): untruncated")
            #expect(full.map { tok.vocabulary[Int($0)] } == c.tokens, "\(c.text.debugDescription): tokens")
            #expect(tok.decode(c.ids) == c.decoded, "\(c.text.debugDescription): decode")
            #expect(tok.attentionMask(for: ids) == [Int32](repeating: 1, count: ids.count))
        }
        print("WordPiece: \(matching) of \(fixture.cases.count) cases equal to tokenizers \(fixture.tokenizers_version)")
    }

    /// Random strings over characters that stress normalization and splitting (accents and
    /// marks, CJK, controls, odd whitespace, punctuation old and new, special tokens), tokenized by
    /// the venv's Hugging Face `tokenizers` from the same tokenizer.json.
    @Test func randomStringsMatchTokenizersLive() throws {
        let tok = try WordPieceTestData.tokenizer()
        var pools: [[String]] = [
            "abcXYZ", "0123456789", " ", "  \t\n\r", "'", "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~",
            "àéßøÆŒİĲǅ", "\u{301}\u{308}\u{20DD}\u{8E3}\u{8D4}", "中文日本語한국어\u{2B820}\u{2B920}", "😀👍🏽🇫🇷\u{200D}\u{FE0F}",
            "½²①Ⅻⅷ٣੭", "\u{A0}\u{2000}\u{3000}\u{85}\u{1680}\u{2028}\u{B}\u{C}\u{1C}", "\u{0}\u{7}\u{200B}\u{FEFF}\u{AD}\u{FFFD}",
            "\u{378}\u{E000}\u{F0000}\u{1C89}", "ΑβΣДжשא", "\u{2E44}\u{2E42}\u{1DA87}\u{1805}\u{3001}\u{FF01}",
        ].map { $0.unicodeScalars.map { String($0) } }
        pools.append(["[MASK]", "[CLS]", "[SEP]", "[PAD]", "[UNK]", "[mask]", "##", "hello", "world", "un", "##able"])
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        var texts: [String] = []
        for _ in 0..<600 {
            var text = ""
            for _ in 0..<(1 + next(30)) {
                let pool = pools[next(pools.count)]
                text += pool[next(pool.count)]
            }
            texts.append(text)
        }
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("texts.json")
        try JSONSerialization.data(withJSONObject: texts).write(to: input)
        let script = """
            import json, sys
            from tokenizers import Tokenizer
            tok = Tokenizer.from_file(sys.argv[1])
            tok.no_padding()
            texts = json.load(open(sys.argv[2], encoding="utf-8"))
            out = []
            for t in texts:
                ids = tok.encode(t).ids
                out.append([ids, tok.decode(ids)])
            print(json.dumps(out))
            """
        let output = try TestSupport.python(script, [WordPieceTestData.tokenizerJSON.path, input.path])
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[Any]])
        try #require(expected.count == texts.count)
        var equal = 0
        for (text, e) in zip(texts, expected) {
            let ids = (e[0] as? [Int] ?? []).map(Int32.init)
            let ours = tok.encode(text)
            #expect(ours == ids, "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
            #expect(tok.decode(ids) == e[1] as? String, "decode \(text.unicodeScalars.map { String($0.value, radix: 16) })")
            if ours == ids { equal += 1 }
        }
        print("WordPiece: \(equal) of \(texts.count) random strings equal to tokenizers")
    }

    @Test func vocabFileSetupMatches() throws {
        let fromJSON = try WordPieceTestData.tokenizer()
        let tok = try WordPieceTokenizer(vocabFile: WordPieceTestData.vocabTXT)
        #expect(tok.vocabularySize == fromJSON.vocabularySize)
        #expect(tok.maxLength == 512)
        for c in try WordPieceTestData.fixture().cases where c.ids_full.count <= 512 {
            #expect(tok.encode(c.text) == c.ids_full, "\(c.text.debugDescription)")
        }
        #expect(tok.encode("Hello World") == [101, 7592, 2088, 102])
        let cased = try WordPieceTokenizer(vocabFile: WordPieceTestData.vocabTXT, lowercase: false)
        #expect(cased.encode("Hello", addSpecialTokens: false) != tok.encode("Hello", addSpecialTokens: false))
    }

    @Test func specialTokensAndTruncation() throws {
        var tok = try WordPieceTestData.tokenizer()
        #expect(tok.prefixIDs == [101] && tok.suffixIDs == [102])
        #expect(tok.id(of: "[MASK]") == 103 && tok.unkID == 100)
        #expect(tok.encode("") == [101, 102])
        #expect(tok.encode("", addSpecialTokens: false) == [])
        tok.maxLength = 5
        let ids = tok.encode("one two three four five six")
        #expect(ids.count == 5 && ids.first == 101 && ids.last == 102)
        #expect(tok.encode("one two three four five six", addSpecialTokens: false).count == 5)
        tok.truncatesFromLeft = true
        #expect(tok.encode("one two three four five six").dropFirst().first == tok.id(of: "four"))
        #expect(tok.decode([101, 7592, 1010, 2088, 999, 102]) == "hello, world!")
        #expect(tok.decode([101, 7592, 102], skipSpecialTokens: false) == "[CLS] hello [SEP]")
    }

    @Test func normalizerAndPreTokenizer() {
        let n = BertNormalizer()
        #expect(n.stripAccents && n.lowercase)
        #expect(n.normalize("Café\tNAÏVE\u{0}\u{200B}x") == "cafe naivex")
        #expect(n.normalize("中文") == " 中  文 ")
        #expect(BertNormalizer(lowercase: false).normalize("Café") == "Café")
        let p = BertPreTokenizer()
        #expect(p.split("hey friend!     how are you?!?") == ["hey", "friend", "!", "how", "are", "you", "?", "!", "?"])
        #expect(p.split("  ") == [])
    }

    @Test func lookupsAreByCodePointsNotCanonicalEquivalence() throws {
        // "é" precomposed is in this vocabulary; "e" + U+0301 is a different string to tokenizers.
        let tok = try WordPieceTokenizer(vocabulary: ["[UNK]": 0, "\u{E9}": 1, "##\u{301}": 2],
                                         normalizer: nil, prefixIDs: [], suffixIDs: [])
        #expect(tok.encode("\u{E9}") == [1])
        #expect(tok.encode("e\u{301}") == [0])
        #expect(tok.encode("\u{E9}\u{301}") == [1, 2])
        #expect(tok.id(of: "e\u{301}") == nil)
        // A "##" piece starting with a combining mark still joins on decoding.
        #expect(tok.decode([1, 2]) == "\u{E9}\u{301}")
    }

    @Test func badFilesNameTheField() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func error(_ json: String) -> TokenizerError? {
            let url = dir.appendingPathComponent("t-\(UUID().uuidString).json")
            _ = FileManager.default.createFile(atPath: url.path, contents: Data(json.utf8))
            do {
                _ = try WordPieceTokenizer(tokenizerJSON: url)
                return nil
            } catch let e as TokenizerError {
                return e
            } catch {
                return nil
            }
        }
        let vocab = ###""vocab": {"[UNK]": 0, "a": 1, "##b": 2}"###
        #expect(error("{").map(\.kind) == .unreadable)
        #expect(error("[]")?.kind == .wrongType)
        #expect(error("{}")?.field == "model")
        #expect(error(#"{"model": {"type": "BPE", \#(vocab)}}"#)?.field == "model.type")
        #expect(error(#"{"model": {"type": "WordPiece"}}"#)?.field == "model.vocab")
        #expect(error(#"{"model": {"vocab": {"a": "x"}}}"#)?.field == "model.vocab[\"a\"]")
        #expect(error(#"{"model": {"vocab": {"a": 0}}}"#)?.field == "model.unk_token")
        #expect(error(#"{"model": {\#(vocab), "max_input_chars_per_word": "x"}}"#)?.field == "model.max_input_chars_per_word")
        #expect(error(#"{"model": {\#(vocab)}, "normalizer": {"type": "NFC"}}"#)?.field == "normalizer.type")
        #expect(error(#"{"model": {\#(vocab)}, "normalizer": {"type": "BertNormalizer", "lowercase": 3}}"#)?.field == "normalizer.lowercase")
        #expect(error(#"{"model": {\#(vocab)}, "pre_tokenizer": {"type": "Whitespace"}}"#)?.field == "pre_tokenizer.type")
        #expect(error(#"{"model": {\#(vocab)}, "truncation": {"stride": 0}}"#)?.field == "truncation.max_length")
        #expect(error(#"{"model": {\#(vocab)}, "added_tokens": [{"id": 5}]}"#)?.field == "added_tokens[0].content")
        #expect(error(#"{"model": {\#(vocab)}, "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]"}}]}}"#)?.field == "post_processor.special_tokens")

        let ok = try #require(try? WordPieceTokenizer(tokenizerJSON: {
            let url = dir.appendingPathComponent("ok.json")
            _ = FileManager.default.createFile(atPath: url.path, contents: Data(#"{"model": {\#(vocab)}, "pre_tokenizer": {"type": "BertPreTokenizer"}}"#.utf8))
            return url
        }()))
        #expect(ok.encode("ab a c") == [1, 2, 1, 0])
        #expect(ok.maxLength == 512)
        #expect(ok.decode([1, 2, 1, 0]) == "a ##b a [UNK]")   // no decoder: tokens joined by spaces

        let missing = dir.appendingPathComponent("nope.json")
        #expect(throws: TokenizerError.self) { try WordPieceTokenizer(tokenizerJSON: missing) }
        let noCLS = dir.appendingPathComponent("vocab.txt")
        _ = FileManager.default.createFile(atPath: noCLS.path, contents: Data("[UNK]\n[SEP]\na\n".utf8))
        #expect(throws: TokenizerError.self) { try WordPieceTokenizer(vocabFile: noCLS) }
    }
}
