import Foundation
import Testing
import Models

/// Where the BPE tests find the real model and llama.cpp's golden token ids, and one tokenizer
/// built once for all of them.
enum BPETestData {
    /// The SmolLM2-135M-Instruct GGUF (scripts/fetch-models puts it there).
    static let ggufPath = TestSupport.smolLMPath
    /// The shared folder beside the checkout (`PRUNELANG_SHARED`, default `../shared`).
    static let shared = ProcessInfo.processInfo.environment["PRUNELANG_SHARED"].map { URL(fileURLWithPath: $0) }
        ?? TestSupport.root.deletingLastPathComponent().appendingPathComponent("shared")
    /// llama.cpp's reference outputs for SmolLM2 (see shared/golden/README.md).
    static let golden = shared.appendingPathComponent("golden/smollm2-135m")
    /// WikiText-2 raw, test split.
    static let wikitextRaw = shared.appendingPathComponent("data/wikitext-2-raw/wiki.test.raw")

    /// The tokenizer of the real model, or why it could not be built.
    static let loaded: Result<BPETokenizer, TokenizerLoadFailure> = {
        guard FileManager.default.fileExists(atPath: ggufPath) else {
            return .failure(TokenizerLoadFailure(message: "SmolLM2 GGUF not found at \(ggufPath); run scripts/fetch-models"))
        }
        do {
            return .success(try BPETokenizer(gguf: GGUFFile(path: ggufPath)))
        } catch {
            return .failure(TokenizerLoadFailure(message: "cannot build the tokenizer from \(ggufPath): \(error)"))
        }
    }()

    /// A load failure's message.
    struct TokenizerLoadFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// The tokenizer, or a thrown failure with a clear message.
    static func tokenizer() throws -> BPETokenizer { try loaded.get() }

    /// A golden JSON file as a dictionary; fails clearly when it is absent.
    static func goldenJSON(_ name: String) throws -> [String: Any] {
        let url = golden.appendingPathComponent(name)
        let data = try #require(FileManager.default.contents(atPath: url.path),
                                "golden file \(url.path) not found (set PRUNELANG_SHARED)")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The WikiText-2 test text exactly as the golden README builds it (the library's own
    /// construction, `DataCatalog.wikitext2Test`).
    static func wikitextTestText() throws -> String {
        try DataCatalog.wikitext2Test(wikitextRaw.path)
    }

    /// Lower-case hex of `bytes`.
    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}

/// The GPT-2 byte-level BPE tokenizer on SmolLM2-135M-Instruct, checked id for id against
/// llama.cpp (llama-cpp-python 0.3.36) on the whole WikiText-2 test text and on the golden
/// tokenizer cases, plus decoding, special tokens and bad metadata.
struct BPETokenizerTests {
    @Test func metadata() throws {
        let tok = try BPETestData.tokenizer()
        #expect(tok.vocabularySize == 49152)
        #expect(tok.bosID == 1)
        #expect(tok.eosID == 2)
        #expect(tok.unkID == 0)
        #expect(tok.padID == 2)
        #expect(tok.addsBOSByDefault == false)
        #expect(tok.preTokenizerName == "smollm")
        #expect(tok.piece(1) == "<|im_start|>")
        #expect(tok.piece(2) == "<|im_end|>")
        #expect(tok.tokenTypes[0] == .control && tok.tokenTypes[100] == .normal)
        #expect(tok.id(of: "Ġthe").map(tok.piece) == " the")
        #expect(tok.encode("Hi", addBOS: true).first == 1)
    }

    @Test func wikitext2TestTextMatchesLlamaCpp() throws {
        let tok = try BPETestData.tokenizer()
        let golden = try BPETestData.goldenJSON("wikitext2_test_tokens.json")
        let expected = try #require(golden["token_ids"] as? [Int]).map(Int32.init)
        let text = try BPETestData.wikitextTestText()
        #expect(text.utf8.count == 1_296_370, "the text is not built as the golden README says")
        #expect(text.utf8.count == golden["text_n_bytes"] as? Int)

        let clock = ContinuousClock()
        let t0 = clock.now
        let ids = tok.encode(text)
        let elapsed = clock.now - t0
        print("BPE: WikiText-2 test (\(text.utf8.count) bytes) → \(ids.count) tokens in \(elapsed)")
        #expect(elapsed < .seconds(10), "encoding took \(elapsed); it should be about a second in release")

        let same = zip(ids, expected).prefix { $0 == $1 }.count
        let matching = zip(ids, expected).filter { $0 == $1 }.count
        print("BPE: WikiText-2 ids equal to llama.cpp's: \(matching) of \(expected.count) positions (common prefix \(same))")
        if ids != expected {
            let lo = max(0, same - 8), hi = min(same + 8, ids.count, expected.count)
            let ours = ids[lo..<hi].map { "\($0)=\(tok.piece($0).debugDescription)" }
            let theirs = expected[lo..<min(same + 8, expected.count)].map { "\($0)=\(tok.piece($0).debugDescription)" }
            Issue.record("""
                ids differ from llama.cpp at position \(same) (ours \(ids.count) tokens, llama.cpp \(expected.count))
                ours:      \(ours.joined(separator: " "))
                llama.cpp: \(theirs.joined(separator: " "))
                """)
        }
        #expect(tok.decode(ids) == text, "decode(encode(text)) differs from the text")
    }

    @Test func goldenCasesMatchLlamaCpp() throws {
        let tok = try BPETestData.tokenizer()
        let golden = try BPETestData.goldenJSON("tokenizer_cases.json")
        let cases = try #require(golden["cases"] as? [[String: Any]])
        let special = try #require(golden["special_cases"] as? [[String: Any]])
        #expect(cases.count == 40 && special.count == 2)
        #expect(golden["vocab_size"] as? Int == tok.vocabularySize)
        for c in cases + special {
            let text = try #require(c["text"] as? String)
            let parse = c["special"] as? Bool ?? false
            let expected = try #require(c["ids"] as? [Int]).map(Int32.init)
            #expect(BPETestData.hex(text.utf8) == c["utf8_hex"] as? String, "\(text.debugDescription): text changed on load")
            let ids = tok.encode(text, special: parse)
            #expect(ids == expected, "\(text.debugDescription) special=\(parse)")
            let pieces = ids.map { BPETestData.hex(tok.pieceBytes($0)) }
            if ids == expected {
                #expect(pieces == c["piece_bytes_hex"] as? [String], "\(text.debugDescription): token pieces")
            }
            if c["detokenize_roundtrip_exact"] as? Bool == true {
                #expect(tok.decodeBytes(expected, special: parse) == Array(text.utf8), "\(text.debugDescription): decode")
                #expect(tok.decode(expected, special: parse) == text)
            }
        }
    }

    @Test func specialTokensOnlyWhenAsked() throws {
        let tok = try BPETestData.tokenizer()
        let text = "<|im_start|>user\nHi<|im_end|>\n"
        let parsed = tok.encode(text, special: true)
        #expect(parsed == [1, 4093, 198, 26843, 2, 198])
        let literal = tok.encode(text)
        #expect(!literal.contains(1) && !literal.contains(2))
        #expect(tok.decode(literal) == text)
        // Control tokens vanish from decoded text unless asked for.
        #expect(tok.decode(parsed) == "user\nHi\n")
        #expect(tok.decode(parsed, special: true) == text)
        // Adjacent and repeated control tokens, with text between.
        #expect(tok.encode("<|im_end|><|im_end|>x<|endoftext|>", special: true).prefix(2) == [2, 2])
        #expect(tok.encode("<|endoftext|>", special: true) == [0])
        #expect(tok.encode("", special: true) == [])
    }

    @Test func roundTrips() throws {
        let tok = try BPETestData.tokenizer()
        let samples = [
            "", " ", "\n", "\n\n\n", "  leading and trailing  ", "tab\there", "a\r\nb",
            "Numbers 1234567890 and 3.14159, -42, 1e10", "don't won't it's I'M YOU'RE we've they'll he'd",
            "naïve café résumé Ångström", "e\u{301}\u{302} combining", "Ελληνικά Русский 中文 日本語 한국어 العربية",
            "👍🏽 👨‍👩‍👧‍👦 🇫🇷 😀😀😀", "\u{00A0}\u{2009}\u{200B}\u{FEFF}", "x\u{0}y\u{7F}z\u{85}",
            "func f(x: Int) -> Int { return x * 2 } // code", "https://example.com/a?b=c&d=e mail@x.org",
            String(repeating: "abc", count: 400), String(repeating: "9", count: 300),
            String(repeating: "!?", count: 200), String(repeating: " ", count: 100) + "x",
            "ⅷ ½ ² ٣ 𝟘 numbers of other kinds", "\u{10FFFD}\u{E000} private use",
        ]
        for s in samples {
            let ids = tok.encode(s)
            #expect(ids.allSatisfy { $0 >= 0 && Int($0) < tok.vocabularySize }, "\(s.debugDescription)")
            #expect(tok.decode(ids) == s, "\(s.debugDescription)")
            #expect(tok.encode(s, special: true) == ids, "\(s.debugDescription): no special tokens inside")
        }
        // Digits never group, whatever their script.
        #expect(tok.encode("2024").count == 4)
        #expect(tok.decode([-1, 999_999]) == "")
    }

    @Test func charactersNewerThanLlamaCppTablesAreUnassigned() throws {
        // llama.cpp's category tables are Unicode 15.1; these ids are llama-cpp-python 0.3.36's.
        let tok = try BPETestData.tokenizer()
        #expect(tok.encode("\u{10D40}'d") == [187, 234, 130, 218, 23, 84])   // Unicode 16: not a letter, so no "'d"
        #expect(tok.encode(" \u{1C89}x") == [15822, 127, 227, 104])
        #expect(tok.encode("a\u{1C89}b") == [81, 172, 127, 227, 82])
        #expect(tok.encode("\u{0897}\u{0661}") == [171, 112, 241, 164, 111])
        #expect(tok.encode("\u{2EBF0} ok") == [187, 123, 124, 125, 10907])   // Unicode 15.1: a letter
    }

    /// Random strings over characters that stress the pre-tokenizer (contractions, digits of many
    /// scripts, odd whitespace, marks, emoji, unassigned and post-15.1 code points), tokenized by
    /// llama.cpp itself through the venv's llama-cpp-python.
    @Test func randomStringsMatchLlamaCppLive() throws {
        let tok = try BPETestData.tokenizer()
        var pools: [[String]] = [
            "abcXYZ", "0123456789", " ", "  \t\n\r", "'", "stdmrlve", "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~",
            "àéßøÆŒ", "\u{301}\u{308}\u{20DD}", "中文日本語한국어", "😀👍🏽🇫🇷\u{200D}\u{FE0F}", "½²①Ⅻⅷ٣੭",
            "\u{A0}\u{2000}\u{2009}\u{3000}\u{85}\u{1680}\u{2028}\u{202F}", "\u{200B}\u{FEFF}\u{AD}",
            "\u{378}\u{E000}\u{F0000}", "ΑβДж", "\u{660}\u{966}\u{FF10}\u{1D7CE}",
            "\u{1C89}\u{11F04}\u{1E030}\u{31E4}\u{1FAE9}\u{2EBF0}\u{897}\u{10D40}\u{16D40}",
        ].map { $0.unicodeScalars.map { String($0) } }
        pools.append(["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<jupyter_code>", "<|im_start", "<|"])
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
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
            from llama_cpp import Llama
            llm = Llama(model_path=sys.argv[1], vocab_only=True, verbose=False)
            texts = json.load(open(sys.argv[2], encoding="utf-8"))
            print(json.dumps([[llm.tokenize(t.encode("utf-8"), add_bos=False, special=s) for s in (False, True)] for t in texts]))
            """
        let output = try TestSupport.python(script, [BPETestData.ggufPath, input.path])
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[[Int]]])
        try #require(expected.count == texts.count)
        var equal = 0
        for (text, ids) in zip(texts, expected) {
            let plain = tok.encode(text), special = tok.encode(text, special: true)
            #expect(plain == ids[0].map(Int32.init), "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
            #expect(special == ids[1].map(Int32.init), "special: \(text.unicodeScalars.map { String($0.value, radix: 16) })")
            if plain == ids[0].map(Int32.init) && special == ids[1].map(Int32.init) { equal += 1 }
            #expect(tok.decode(plain) == text)
        }
        #expect(texts.filter { $0.contains("<|im_end|>") }.count > 10)
        print("BPE: \(equal) of \(texts.count) random strings equal to llama.cpp (plain and special)")
    }

    @Test func preTokenizerSplits() {
        let pre = SmolLMPreTokenizer()
        #expect(pre.split("Hello world") == ["Hello", " world"])
        #expect(pre.split("Hello  world") == ["Hello", " ", " world"])
        #expect(pre.split("x 123") == ["x", " ", "1", "2", "3"])
        #expect(pre.split("I'm don't 'S") == ["I", "'m", " don", "'t", " '", "S"])
        #expect(pre.split("a\n\nb") == ["a", "\n", "\n", "b"])
        #expect(pre.split("end  ") == ["end", "  "])
        #expect(pre.split(" ...!? x") == [" ...!?", " x"])
        #expect(pre.split("") == [])
    }

    @Test func byteLevelAlphabet() {
        #expect(ByteLevel.encode([0x20, 0x0A, 0x41, 0xFF, 0xAD]) == "ĠĊAÿŃ")
        #expect(ByteLevel.decode("ĠĊAÿŃ") == [0x20, 0x0A, 0x41, 0xFF, 0xAD])
        #expect(ByteLevel.decode("€") == nil)
        #expect(Set(ByteLevel.scalarForByte).count == 256)
        for b in 0...255 { #expect(ByteLevel.decode(ByteLevel.encode([UInt8(b)])) == [UInt8(b)]) }
    }

    /// Minimal valid metadata, overridable key by key.
    static func metadata(_ overrides: [String: GGUFValue?] = [:]) -> (String) -> GGUFValue? {
        var base: [String: GGUFValue] = [
            "tokenizer.ggml.model": .string("gpt2"),
            "tokenizer.ggml.pre": .string("smollm"),
            "tokenizer.ggml.tokens": .array(.string(["<|endoftext|>", "a", "b", "ab", "Ġ", "Ġab"])),
            "tokenizer.ggml.token_type": .array(.int32([3, 1, 1, 1, 1, 1])),
            "tokenizer.ggml.merges": .array(.string(["a b", "Ġ ab"])),
            "tokenizer.ggml.eos_token_id": .uint32(0),
        ]
        for (k, v) in overrides { base[k] = v }
        return { base[$0] }
    }

    @Test func tinyVocabulary() throws {
        let tok = try BPETokenizer(metadata: Self.metadata())
        #expect(tok.encode("ab ab") == [3, 5])
        #expect(tok.encode("ba") == [2, 1])
        #expect(tok.decode([3, 5]) == "ab ab")
        // Characters outside the vocabulary have no token and are dropped, as in llama.cpp.
        #expect(tok.encode("abc") == [3])
        #expect(tok.bosID == nil && tok.eosID == 0)
    }

    @Test func badMetadataNamesTheKey() throws {
        func failure(_ overrides: [String: GGUFValue?]) -> TokenizerError? {
            do {
                _ = try BPETokenizer(metadata: Self.metadata(overrides))
                return nil
            } catch let e as TokenizerError {
                return e
            } catch {
                return nil
            }
        }
        let cases: [([String: GGUFValue?], TokenizerError.Kind, String)] = [
            (["tokenizer.ggml.tokens": nil], .missing, "tokenizer.ggml.tokens"),
            (["tokenizer.ggml.merges": nil], .missing, "tokenizer.ggml.merges"),
            (["tokenizer.ggml.model": nil], .missing, "tokenizer.ggml.model"),
            (["tokenizer.ggml.model": .string("llama")], .unsupported, "tokenizer.ggml.model"),
            (["tokenizer.ggml.pre": .string("qwen2")], .unsupported, "tokenizer.ggml.pre"),
            (["tokenizer.ggml.pre": .uint32(3)], .wrongType, "tokenizer.ggml.pre"),
            (["tokenizer.ggml.tokens": .array(.int32([1, 2]))], .wrongType, "tokenizer.ggml.tokens"),
            (["tokenizer.ggml.tokens": .string("a")], .wrongType, "tokenizer.ggml.tokens"),
            (["tokenizer.ggml.tokens": .array(.string([]))], .malformed, "tokenizer.ggml.tokens"),
            (["tokenizer.ggml.tokens": .array(.string(["a", "b", "a", "x", "y", "z"]))], .malformed, "tokenizer.ggml.tokens[2]"),
            (["tokenizer.ggml.merges": .array(.string(["a b", "ab"]))], .malformed, "tokenizer.ggml.merges[1]"),
            (["tokenizer.ggml.token_type": .array(.int32([1, 1]))], .malformed, "tokenizer.ggml.token_type"),
            (["tokenizer.ggml.token_type": .array(.int32([1, 1, 1, 9, 1, 1]))], .malformed, "tokenizer.ggml.token_type[3]"),
            (["tokenizer.ggml.token_type": .array(.string(["x"]))], .wrongType, "tokenizer.ggml.token_type"),
            (["tokenizer.ggml.bos_token_id": .uint32(6)], .malformed, "tokenizer.ggml.bos_token_id"),
            (["tokenizer.ggml.eos_token_id": .string("0")], .wrongType, "tokenizer.ggml.eos_token_id"),
            (["tokenizer.ggml.add_bos_token": .uint8(1)], .wrongType, "tokenizer.ggml.add_bos_token"),
        ]
        for (overrides, kind, field) in cases {
            let e = failure(overrides)
            #expect(e?.kind == kind, "\(overrides.keys.sorted()): \(String(describing: e))")
            #expect(e?.field == field, "\(overrides.keys.sorted()): \(String(describing: e))")
            #expect(e.map { "\($0)".contains(field) } == true)
        }
    }
}
