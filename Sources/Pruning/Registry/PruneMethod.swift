import Numerics
import Models
import Training

/// A pruning method declared once: its name, what it does and what `ratio` means for it, the
/// options it reads, whether it draws calibration data, the architectures it runs on, and how it
/// runs. `PruneMethods.all` lists them; the language's `prune` builtin, its help and its errors
/// are made from these declarations, so a new method is one entry there and nothing in the language.
public struct PruneMethod: Sendable {
    /// The name a call uses ("wanda"), or "policy" for a trained policy.
    public let name: String
    /// How messages name it: the name, or "a policy".
    public let described: String
    /// One line on what it does.
    public let summary: String
    /// What `ratio` means for it.
    public let ratioMeaning: String
    /// A paragraph of details for its own help (may be empty).
    public let details: String
    /// The options it reads, besides ratio and seed.
    public let options: [MethodOption]
    /// Whether it draws calibration windows (`PruneRequest.calibration`).
    public let needsCalibration: Bool
    /// The architectures it runs on.
    public let architectures: [Architecture]
    /// Whether blocks may have ratios of their own (a list of ratios).
    public let perBlockRatios: Bool
    /// Whether it removes whole FFN neurons (its kept counts may be block-aligned: `PruneRequest.alignKept`).
    public let prunesNeurons: Bool
    /// Prunes `model` as `request` asks, reporting through `progress` (nil: the method prunes
    /// networks only).
    let run: (@Sendable (Model, PruneRequest, ProgressReporter) throws -> Model)?
    /// Prunes a small network as `request` asks (nil: the method prunes models only).
    let network: (@Sendable (MLP, PruneRequest) throws -> MLP)?
    /// What `ratio` means on a network, when the method prunes them.
    public let networkRatioMeaning: String

    /// Whether it prunes language models.
    public var runsOnModels: Bool { run != nil }
    /// Whether it prunes small networks (`MLP`s).
    public var runsOnNetworks: Bool { network != nil }
    /// What it runs on, for help: the architectures, and "network" when it prunes networks.
    public var runsOn: [String] { (runsOnModels ? architectures.map(\.rawValue) : []) + (runsOnNetworks ? ["network"] : []) }
    /// The name of the pruned model: `model`'s name and a suffix of the method and ratio.
    let suffix: @Sendable (PruneRequest) -> String

    /// Declares a method.
    public init(name: String, described: String? = nil, summary: String, ratioMeaning: String, details: String = "",
                options: [MethodOption] = [], needsCalibration: Bool = false, architectures: [Architecture] = [.llama, .bert],
                perBlockRatios: Bool = false, prunesNeurons: Bool = false, suffix: (@Sendable (PruneRequest) -> String)? = nil,
                network: (@Sendable (MLP, PruneRequest) throws -> MLP)? = nil, networkRatioMeaning: String = "",
                run: (@Sendable (Model, PruneRequest, ProgressReporter) throws -> Model)?) {
        self.name = name
        self.described = described ?? name
        self.summary = summary
        self.ratioMeaning = ratioMeaning
        self.details = details
        self.options = options
        self.needsCalibration = needsCalibration
        self.architectures = architectures
        self.perBlockRatios = perBlockRatios
        self.prunesNeurons = prunesNeurons
        self.run = run
        self.network = network
        self.networkRatioMeaning = networkRatioMeaning
        self.suffix = suffix ?? { r in "\(name)-" + PruneMethod.ratioLabel(r) }
    }

    /// Whether the method reads option `name`.
    public func reads(_ name: String) -> Bool { options.contains { $0.name == name } }

    /// Sets option `name` to `value` in `request`, after checking that this method reads it and that
    /// the value is of its kind and range. `.none` for an option whose default is none leaves it
    /// unset. Throws a `PruningError` naming the option: one the method ignores ("pattern applies to
    /// magnitude, wanda and sparsegpt, not slicegpt"), an unknown keyword, or a bad value.
    public func set(_ name: String, _ value: OptionValue, in request: inout PruneRequest) throws {
        if value == .none, PruneMethods.option(named: name)?.defaultValue == OptionValue.none { return }
        guard let option = options.first(where: { $0.name == name }) else {
            if let known = PruneMethods.option(named: name), known.shared {
                let readers = PruneMethods.readers(of: name)
                let list = readers.count == 1 ? "\(readers[0]) only" : readers.dropLast().joined(separator: ", ") + " and " + readers.last!
                throw PruningError(option: name, "\(name) applies to \(list), not \(described)")
            }
            let own = options.filter { !$0.shared }.map(\.name)
            let subject = described == self.name ? self.name : "prune with \(described)"
            if own.isEmpty { throw PruningError(option: name, "\(subject) takes no keyword \(name)") }
            throw PruningError(option: name, "\(subject) takes the keywords \(own.joined(separator: ", ")); got \(name)")
        }
        try option.store(value, in: &request)
    }

    /// "20" for a uniform ratio of 0.2, "mixed" when blocks differ.
    public static func ratioLabel(_ r: PruneRequest) -> String {
        r.uniformRatio.map { "\(Int(($0 * 100).rounded()))" } ?? "mixed"
    }
}

extension MethodOption {
    /// Checks `value` (see `check`) and stores it in `request`, noting the option as given; `.none`
    /// for an option whose default is none leaves it unset. Throws a `PruningError` naming the option.
    public func store(_ value: OptionValue, in request: inout PruneRequest) throws {
        if value == .none, defaultValue == .none { return }
        try check(value)
        do { try apply(&request, value) } catch let e as PruningError where e.option == nil {
            throw PruningError(option: name, e.message)
        }
        request.given.insert(name)
    }

    /// Throws a `PruningError` naming the option unless `value` is of its kind and range.
    public func check(_ value: OptionValue) throws {
        func fail(_ message: String) -> PruningError { PruningError(option: name, message) }
        switch (kind, value) {
        case let (.number(expected, valid), .number(x)):
            guard x.isFinite, valid(x) else { throw fail("\(name) must be \(expected), got \(PruningError.format(x))") }
        case let (.integer(range), .number(x)):
            guard x.isFinite, x == x.rounded(), abs(x) <= 9_007_199_254_740_992 else {
                throw fail("\(name) must be an integer, got \(PruningError.format(x))")
            }
            guard range.contains(Int(x)) else {
                throw fail("\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(Int(x))")
            }
        case let (.choice(choices), .string(s)):
            guard choices.contains(s) else {
                throw fail("\(name) must be one of \(choices.map { "\"\($0)\"" }.joined(separator: ", ")), got \"\(s)\"")
            }
        case (.text, .string), (.bool, .bool), (.neurons, .neurons):
            return
        default: throw fail("\(name) must be \(kind.expected)")
        }
    }
}
