import Numerics
import Foundation
import Models

/// Everything one pruning asks for besides the model and the method: the ratio of each block, the
/// seed, and the settings methods read (pattern, scope, calibration, top-k, policy training). A
/// method reads the fields its declaration lists; `PruneMethod.set` fills them from named options
/// and refuses the ones the method does not read.
public struct PruneRequest: Sendable {
    /// The fraction removed in each block (one entry per block), or one entry for all blocks.
    public var ratios: [Double]
    /// The seed of every random choice (row draws, calibration windows, policy training).
    public var seed: UInt64 = 0
    /// An N:M pattern for the unstructured methods instead of `ratios` (nil: use the ratio).
    public var pattern: SparsityPattern? = nil
    /// Where magnitude pruning compares weights.
    public var scope: MagnitudePruning.Scope = .layer
    /// The calibration data of the methods that need it.
    public var calibration = CalibrationSettings()
    /// With PruneNet: keep the top-k scores instead of sampling (the paper's Table 17).
    public var deterministic = false
    /// How the "prunenet" method trains its policy (its ratio is the request's unless `train_ratio` is set).
    public var policy = PolicyTrainingOptions()
    /// Neurons the row methods always keep (`protect=`).
    public var protected = ProtectedNeurons.none
    /// How blocks share the ratio: nil for one ratio everywhere (or the list given), or OWL's rule.
    public var layerRatios: OWLRatios.Form? = nil
    /// The input model of "contribution-rows".
    public var proxy = ContributionScores.Proxy.prompt
    /// How the "heads" method scores and removes attention heads.
    public var heads = HeadPruningOptions()
    /// Row methods and policies: round each block's kept count to a multiple of its down
    /// projection's quantisation block size (`FFNPruning.blockAlignedRatios`), so a save keeps the
    /// source's type and the file shrinks; false keeps exactly (1−ratio)·width neurons.
    public var alignKept = false
    /// The options set through `PruneMethod.set`, by name.
    public var given: Set<String> = []

    /// A request removing `ratio` in every block.
    public init(ratio: Double, seed: UInt64 = 0) {
        ratios = [ratio]
        self.seed = seed
    }

    /// A request removing `ratios[b]` in block b.
    public init(ratios: [Double], seed: UInt64 = 0) {
        self.ratios = ratios
        self.seed = seed
    }

    /// The single ratio shared by every block, nil when blocks differ.
    public var uniformRatio: Double? {
        guard let r = ratios.first, ratios.allSatisfy({ $0 == r }) else { return nil }
        return r
    }

    /// One ratio per block of a model with `blocks` blocks (a single ratio repeated); throws when
    /// the count is neither 1 nor `blocks` or a ratio is outside [0, 1).
    public func blockRatios(_ blocks: Int) throws -> [Double] {
        guard ratios.count == 1 || ratios.count == blocks else {
            throw PruningError(option: "ratio", "ratio must be a number or a list of \(blocks) ratios (one per block), got \(ratios.count)")
        }
        if let bad = ratios.first(where: { !($0 >= 0 && $0 < 1) }) {
            throw PruningError(option: "ratio", "\(ratios.count == 1 ? "ratio" : "every ratio") must be in [0, 1), got \(PruningError.format(bad))")
        }
        if ratios.count == 1 { return Array(repeating: ratios[0], count: blocks) }
        return ratios
    }
}

/// Where the calibrated methods (Wanda, SparseGPT, SliceGPT, ShortGPT, LaCo) take their token
/// windows: `windows` windows of `length` tokens drawn from `source` (the C4 sample of the data
/// folder unless set) with `seed` (the request's seed unless set), tokenised by the model's own
/// tokenizer; or windows given outright.
public struct CalibrationSettings: Sendable {
    /// Tokens per window.
    public static let defaultLength = 512
    /// Windows drawn by default (8192 tokens).
    public static let defaultWindows = 16

    /// How many windows.
    public var windows = CalibrationSettings.defaultWindows
    /// Tokens per window.
    public var length = CalibrationSettings.defaultLength
    /// The data folder holding `c4/` (nil: `DataCatalog.folder`).
    public var dataFolder: String? = nil
    /// The model's tokenizer when the caller already has it (built from the model's GGUF metadata otherwise).
    public var tokenizer: BPETokenizer? = nil
    /// Windows to use as they are, instead of drawing them.
    public var samples: [[Int32]]? = nil
    /// The text the windows are drawn from.
    public var source = CalibrationSource.c4
    /// The seed of the draw (nil: the request's seed).
    public var seed: UInt64? = nil

    /// Default settings.
    public init() {}

    /// The windows for `model`: `samples` when given, otherwise drawn from `source` with
    /// `self.seed`, or `seed` (the request's) when that is nil. Throws a `PruningError` naming
    /// calib_data when the source cannot be read or is too short for one window.
    public func windows(for model: Model, seed: UInt64) throws -> [[Int32]] {
        if let samples { return samples }
        let folder = dataFolder ?? DataCatalog.folder
        let documents: [String]
        do { documents = try source.documents(in: folder) } catch let e as InferenceError where source != .c4 {
            throw PruningError(option: "calib_data", e.description)
        }
        let tokenizer = try self.tokenizer ?? BPETokenizer(model: model)
        do {
            return try Calibration.samples(documents: documents, tokenizer: tokenizer, count: windows, length: length, seed: self.seed ?? seed)
        } catch InferenceError.invalidArgument(_) where source != .c4 && windows > 0 && length > 1 {
            throw PruningError(option: "calib_data", "calib_data \"\(source.name)\" is too short: a calibration window needs more than \(length) tokens of one text")
        }
    }

    /// The warning a session shows for `source` (calibrating on the text ppl scores), nil when none.
    public var warning: String? { source.warning(dataFolder: dataFolder ?? DataCatalog.folder) }

    /// Checks that `source` can be read from the data folder (a located error before any work).
    public func checkSource() throws {
        do { try source.checkAvailable(in: dataFolder ?? DataCatalog.folder) } catch let e as InferenceError {
            throw PruningError(option: "calib_data", e.description)
        }
    }
}
