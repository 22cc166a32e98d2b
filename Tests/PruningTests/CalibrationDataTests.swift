import Foundation
import Testing
import Numerics
import Models
import Pruning
import TestHelpers

/// The calibration text and the seed of its draw (`calib_data=`, `calib_seed=`): the default draw
/// is the one the calibrated methods always made (C4, the request's seed); another calib_seed draws
/// other windows; WikiText-2's train split is read when the data folder has it and refused with a
/// pointer to the leaking test split when it does not; the test split and a file are drawn from as
/// one text; and calibrating on the text ppl scores is flagged, whatever the name or path.
@Suite(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"), .serialized)
struct CalibrationDataTests {
    static let model = Result { try ModelLoader.load(TestSupport.smolLMPath) }
    static let tokenizer = Result { try BPETokenizer(model: try model.get()) }
    static let wanda = PruneMethods.named("wanda")!

    /// Settings drawing `count` windows of `length` tokens from the data in `folder`.
    static func settings(count: Int = CalibrationSettings.defaultWindows, length: Int = CalibrationSettings.defaultLength,
                         folder: URL = TestSupport.data) throws -> CalibrationSettings {
        var c = CalibrationSettings()
        c.windows = count
        c.length = length
        c.dataFolder = folder.path
        c.tokenizer = try tokenizer.get()
        return c
    }

    /// A request for wanda with `settings`, then `options` set as the language sets them.
    static func request(_ settings: CalibrationSettings, seed: UInt64 = 0, _ options: [(String, OptionValue)] = []) throws -> PruneRequest {
        var r = PruneRequest(ratio: 0.5, seed: seed)
        r.calibration = settings
        for (name, value) in options { try wanda.set(name, value, in: &r) }
        return r
    }

    /// The windows `request` draws.
    static func windows(_ r: PruneRequest) throws -> [[Int32]] { try r.calibration.windows(for: try model.get(), seed: r.seed) }

    /// Σ token·(position + 1) over every window, position counted through all windows: a
    /// position-sensitive fingerprint of a draw.
    static func fingerprint(_ windows: [[Int32]]) -> Int {
        windows.joined().enumerated().reduce(0) { $0 &+ Int($1.element) &* ($1.offset + 1) }
    }

    /// `window` is a run of consecutive tokens of `tokens`.
    static func isSlice(_ window: [Int32], of tokens: [Int32]) -> Bool {
        guard let first = window.first, window.count <= tokens.count else { return false }
        for start in 0...(tokens.count - window.count) where tokens[start] == first {
            if tokens[start..<(start + window.count)].elementsEqual(window) { return true }
        }
        return false
    }

    /// A data folder holding only small WikiText-2 splits (train and test) of the given text.
    static func wikitextFolder(train: String?, test: String) throws -> URL {
        let dir = try TestSupport.temporaryDirectory()
        let raw = dir.appendingPathComponent("wikitext-2-raw")
        try FileManager.default.createDirectory(at: raw, withIntermediateDirectories: true)
        try test.write(to: raw.appendingPathComponent("wiki.test.raw"), atomically: true, encoding: .utf8)
        if let train { try train.write(to: raw.appendingPathComponent("wiki.train.raw"), atomically: true, encoding: .utf8) }
        return dir
    }

    /// Some lines in WikiText's layout (a heading, paragraphs, blank lines), `n` paragraphs long.
    static func article(_ title: String, paragraphs n: Int) -> String {
        var s = " \n = \(title) = \n \n"
        for i in 0..<n {
            s += " The \(title) paragraph \(i) tells of rivers , hills and the \(i * 7 % 13) towns that stood beside them in the year \(1800 + i) . \n \n"
        }
        return s
    }

    @Test func theDefaultDrawIsTheOneTheMethodsAlwaysMade() throws {
        let c = try Self.settings()
        let drawn = try Self.windows(try Self.request(c))
        // What the calibrated methods drew before calib_data and calib_seed existed: C4, the seed.
        let docs = try DataCatalog.c4Documents(in: TestSupport.data.appendingPathComponent("c4").path)
        let direct = try Calibration.samples(documents: docs, tokenizer: try Self.tokenizer.get(), count: 16, length: 512, seed: 0)
        #expect(drawn == direct)
        #expect(drawn.count == 16 && drawn.allSatisfy { $0.count == 512 })
        // Pinned: the first tokens and the fingerprint of the default draw (16 × 512 C4 tokens, seed 0).
        #expect(Array(drawn[0].prefix(6)) == Self.pinnedFirstTokens, "\(Array(drawn[0].prefix(6)))")
        #expect(Self.fingerprint(drawn) == Self.pinnedFingerprint, "\(Self.fingerprint(drawn))")
        // Naming the defaults changes nothing: calib_data="c4", calib_seed equal to the seed.
        let named = try Self.request(c, seed: 0, [("calib_data", .string("c4")), ("calib_seed", .number(0))])
        #expect(try Self.windows(named) == drawn)
        #expect(named.calibration.warning == nil)
    }

    static let pinnedFirstTokens: [Int32] = [2745, 2382, 1456, 2745, 2537, 30]
    static let pinnedFingerprint = 150_848_639_472

    @Test func calibSeedDrawsOtherWindowsAndOverridesTheSeed() throws {
        let c = try Self.settings(count: 4, length: 128)
        let draws = try (0..<5).map { s in try Self.windows(try Self.request(c, seed: 0, [("calib_seed", .number(Double(s)))])) }
        for i in 0..<5 { for j in (i + 1)..<5 { #expect(draws[i] != draws[j], "calib_seed \(i) and \(j) drew the same windows") } }
        // calib_seed s is the draw `seed=s` makes without it, whatever the request's seed.
        let bySeed = try Self.windows(try Self.request(c, seed: 3))
        #expect(draws[3] == bySeed)
        let overridden = try Self.windows(try Self.request(c, seed: 9, [("calib_seed", .number(0))]))
        #expect(overridden == draws[0])
        #expect(try Self.windows(try Self.request(c, seed: 9)) != draws[0], "seed=9 alone draws other windows")
        // Out-of-range and fractional seeds are refused at the option.
        #expect(throws: PruningError(option: "calib_seed", "calib_seed must be between 0 and 9007199254740992, got -1")) {
            _ = try Self.request(c, seed: 0, [("calib_seed", .number(-1))])
        }
        #expect(throws: PruningError(option: "calib_seed", "calib_seed must be an integer, got 0.5")) {
            _ = try Self.request(c, seed: 0, [("calib_seed", .number(0.5))])
        }
    }

    @Test func wikitextTrainIsReadWhenPresentAndRefusedWhenNot() throws {
        let train = Self.article("Train River", paragraphs: 60), test = Self.article("Test Hill", paragraphs: 60)
        let without = try Self.wikitextFolder(train: nil, test: test)
        let with = try Self.wikitextFolder(train: train, test: test)
        defer { try? FileManager.default.removeItem(at: without); try? FileManager.default.removeItem(at: with) }
        // Without the train split: refused at the option, naming the leaking alternative.
        let refused = #expect(throws: PruningError.self) {
            _ = try Self.request(try Self.settings(count: 2, length: 64, folder: without), seed: 0, [("calib_data", .string("wikitext2"))])
        }
        #expect(refused?.option == "calib_data")
        #expect(refused?.message.contains("no WikiText-2 train split") == true && refused?.message.contains("wikitext2-test") == true, "\(refused?.message ?? "")")
        // With it: windows of the train text (joined as ppl joins the test split), no warning.
        let r = try Self.request(try Self.settings(count: 3, length: 64, folder: with), seed: 0, [("calib_data", .string("wikitext2"))])
        #expect(r.calibration.source == .wikitext2Train && r.calibration.warning == nil)
        let trainTokens = try Self.tokenizer.get().encode(try DataCatalog.wikitext2Test(CalibrationSource.wikitext2TrainPath(in: with.path)))
        let drawn = try Self.windows(r)
        #expect(drawn.count == 3 && drawn.allSatisfy { $0.count == 64 && Self.isSlice($0, of: trainTokens) })
        // The test split: drawn from the test text, with a warning that names the leak.
        let leaky = try Self.request(try Self.settings(count: 3, length: 64, folder: with), seed: 0, [("calib_data", .string("wikitext2-test"))])
        let testTokens = try Self.tokenizer.get().encode(try DataCatalog.wikitext2Test(with.appendingPathComponent("wikitext-2-raw/wiki.test.raw").path))
        #expect(try Self.windows(leaky).allSatisfy { Self.isSlice($0, of: testTokens) && !Self.isSlice($0, of: trainTokens) })
        let warning = try #require(leaky.calibration.warning)
        #expect(warning.contains("leakage") && warning.contains("test split"))
    }

    @Test func aFileIsOneTextAndACopyOfTheTestSplitIsFlagged() throws {
        let dir = try Self.wikitextFolder(train: nil, test: Self.article("Test Hill", paragraphs: 40))
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = Self.article("File Valley", paragraphs: 50)
        let path = dir.appendingPathComponent("notes.txt")
        try text.write(to: path, atomically: true, encoding: .utf8)
        let r = try Self.request(try Self.settings(count: 4, length: 48, folder: dir), seed: 0, [("calib_data", .string(path.path))])
        #expect(r.calibration.source == .file(path.path) && r.calibration.warning == nil)
        let tokens = try Self.tokenizer.get().encode(text)
        let drawn = try Self.windows(r)
        #expect(drawn.count == 4 && drawn.allSatisfy { $0.count == 48 && Self.isSlice($0, of: tokens) })
        #expect(drawn != (try Self.windows(try Self.request(try Self.settings(count: 4, length: 48, folder: dir), seed: 1, [("calib_data", .string(path.path))]))))
        // A file too short for one window: refused when drawn, at calib_data.
        let short = dir.appendingPathComponent("short.txt")
        try "a few words only".write(to: short, atomically: true, encoding: .utf8)
        let tooShort = #expect(throws: PruningError.self) {
            _ = try Self.windows(try Self.request(try Self.settings(count: 1, length: 48, folder: dir), seed: 0, [("calib_data", .string(short.path))]))
        }
        #expect(tooShort?.option == "calib_data" && tooShort?.message.contains("too short") == true, "\(tooShort?.message ?? "")")
        // A path that is not a file: refused when set.
        let missing = #expect(throws: PruningError.self) {
            _ = try Self.request(try Self.settings(folder: dir), seed: 0, [("calib_data", .string(dir.appendingPathComponent("nope.txt").path))])
        }
        #expect(missing?.option == "calib_data" && missing?.message.contains("neither a data set") == true, "\(missing?.message ?? "")")
        #expect(throws: PruningError.self) { _ = try Self.request(try Self.settings(folder: dir), seed: 0, [("calib_data", .string(dir.path))]) }
        // A copy of the test split under another name leaks all the same.
        let copy = dir.appendingPathComponent("copy.raw")
        try FileManager.default.copyItem(at: dir.appendingPathComponent("wikitext-2-raw/wiki.test.raw"), to: copy)
        let copied = try Self.request(try Self.settings(count: 1, length: 48, folder: dir), seed: 0, [("calib_data", .string(copy.path))])
        #expect(copied.calibration.warning != nil)
        // calib_data is read by the calibrated methods only.
        var rows = PruneRequest(ratio: 0.2)
        #expect(throws: PruningError(option: "calib_data", "calib_data applies to wanda, sparsegpt, heads, slicegpt, shortgpt and laco, not random-rows")) {
            try PruneMethods.named("random-rows")!.set("calib_data", .string("c4"), in: &rows)
        }
    }
}
