import Foundation
import Testing
import Models
import Pruning
import Training
import PruneLang
import TestHelpers

/// The language's `prune` and the library's `PruneMethods.prune` are one way in: for every
/// registered method (and a trained policy), the same request gives the same model, tensor for
/// tensor, bit for bit, and the same name. A method added to the registry is covered here without
/// a change to this file.
@Suite(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"), .serialized)
struct PruneMethodEntryTests {
    /// A fresh session with the test models and data, SmolLM2's first six blocks as `m` (all of it
    /// when `firstBlocks` is nil): what is compared here is the two entries' models, not their
    /// quality, and every method's work grows with the blocks (the whole model took 200 s of CI).
    static func session(firstBlocks: Int? = 6) throws -> Interpreter {
        setenv("PRUNELANG_MODELS", TestSupport.models.path, 1)
        setenv("PRUNELANG_DATA", TestSupport.data.path, 1)
        let interp = Interpreter(output: { _ in })
        interp.displayHandler = { _ in }
        let r = interp.run(cell: "m = load(\"smollm2-135m\");")
        try #require(r.succeeded, "\(r.renderedDiagnostics)")
        if let firstBlocks {
            let whole = try model(interp, "m")
            interp["m"] = .object(ModelObject(whole.removingBlocks(Set(firstBlocks..<whole.blockCount))))
        }
        return interp
    }

    /// The model bound to `name` in `interp`.
    static func model(_ interp: Interpreter, _ name: String) throws -> Model {
        guard case .object(let o)? = interp[name], let m = o as? ModelObject else {
            throw PruningError("\(name) is not a model")
        }
        return m.model
    }

    /// Whether two models have the same config and the same tensors, element for element.
    static func same(_ a: Model, _ b: Model) throws -> Bool {
        guard a.config == b.config, a.name == b.name, Set(a.tensors.keys) == Set(b.tensors.keys) else { return false }
        for place in a.tensors.keys {
            let x = try a.matrix(place.role, place.part, block: place.block)
            let y = try b.matrix(place.role, place.part, block: place.block)
            guard x.rows == y.rows, x.cols == y.cols, x.data.elementsEqual(y.data, by: { $0.bitPattern == $1.bitPattern }) else { return false }
        }
        return true
    }

    /// The options that make each method cheapest: one calibration window, one policy episode.
    static func cheapOptions(_ method: PruneMethod) -> [String] { ["calib", "episodes"].filter(method.reads) }

    @Test(arguments: PruneMethods.networkMethods.map(\.name))
    func builtinAndLibraryGiveTheSameNetwork(_ name: String) throws {
        let interp = Interpreter(output: { _ in })
        let r = interp.run(cell: "n = mlp([6, 10, 8, 3], seed=1);\nx = prune(n, \"\(name)\", ratio=0.5, seed=3);")
        try #require(r.succeeded, "\(name): \(r.renderedDiagnostics)")
        guard case .object(let n as NetworkObject)? = interp["n"], case .object(let x as NetworkObject)? = interp["x"] else {
            Issue.record("n and x are not networks"); return
        }
        let method = try #require(PruneMethods.named(name))
        let library = try PruneMethods.prune(n.network, method: method, request: PruneRequest(ratio: 0.5, seed: 3))
        #expect(library == x.network, "\(name): the builtin and the library entry differ")
        #expect(library != n.network, "\(name) changed nothing")
    }

    @Test(arguments: PruneMethods.all.filter(\.runsOnModels).map(\.name))
    func builtinAndLibraryGiveTheSameModel(_ name: String) throws {
        let interp = try Self.session()
        let method = try #require(PruneMethods.named(name))
        let ratio = method.name == "magnitude" || method.name == "wanda" || method.name == "sparsegpt" ? 0.5 : 0.2
        let options = Self.cheapOptions(method)
        let r = interp.run(cell: "x = prune(m, \"\(name)\", ratio=\(ratio), seed=3\(options.map { ", \($0)=1" }.joined()));")
        try #require(r.succeeded, "\(name): \(r.renderedDiagnostics)")
        let dense = try Self.model(interp, "m")
        var request = PruneRequest(ratio: ratio, seed: 3)
        request.alignKept = true   // the language's default (exact=false)
        for option in options { try method.set(option, .number(1), in: &request) }
        let library = try PruneMethods.prune(dense, method: name, request: request)
        let language = try Self.model(interp, "x")
        #expect(library.name == language.name, "\(name): \(library.name) vs \(language.name)")
        #expect(try Self.same(library, language), "\(name): the builtin and the library entry differ")
        #expect(!(try Self.same(library, dense)), "\(name) changed nothing")
    }

    @Test func policyThroughBothEntriesAndTopK() throws {
        let interp = try Self.session()
        let r = interp.run(cell: "p = train_policy(m, ratio=0.2, episodes=1, seed=5);\nx = prune(m, p, ratio=0.3, seed=2, deterministic=true);")
        try #require(r.succeeded, "\(r.renderedDiagnostics)")
        guard case .object(let o)? = interp["p"], let p = (o as? PolicyObject)?.policy else { Issue.record("p is not a policy"); return }
        let dense = try Self.model(interp, "m")
        var request = PruneRequest(ratio: 0.3, seed: 2)
        request.alignKept = true
        try PruneMethods.applying(p).set("deterministic", .bool(true), in: &request)
        let library = try PruneMethods.prune(dense, method: PruneMethods.applying(p), request: request)
        #expect(try Self.same(library, try Self.model(interp, "x")))
        #expect(library.name == "smollm2-135m-prunenet-topk-30")
    }

    /// `prune(m, "prunenet", deterministic=true)` takes the top-k of the policy it trains: the same
    /// model as training that policy with `train_policy` and applying it by top-k (before the
    /// registry, the method accepted `deterministic` and sampled anyway).
    @Test func prunenetDeterministicTakesTheTopK() throws {
        let interp = try Self.session()
        let r = interp.run(cell: """
            p = train_policy(m, ratio=0.2, episodes=1, seed=4);
            top = prune(m, p, ratio=0.2, deterministic=true);
            drawn = prune(m, p, ratio=0.2, seed=4);
            direct = prune(m, "prunenet", ratio=0.2, episodes=1, seed=4, deterministic=true);
            """)
        try #require(r.succeeded, "\(r.renderedDiagnostics)")
        let top = try Self.model(interp, "top"), drawn = try Self.model(interp, "drawn"), direct = try Self.model(interp, "direct")
        let gate = { (m: Model) in try m.matrix(.ffnGate, block: 3).data }
        #expect(try gate(direct) == gate(top), "prunenet with deterministic=true must keep the policy's top-k rows")
        #expect(try gate(direct) != gate(drawn), "the top-k and a seeded draw should differ")
        #expect(direct.name == "smollm2-135m-prunenet-topk-20")
    }

    /// Every option a method does not read is refused by the library with the readers named; the
    /// language shows the same message at the option.
    @Test func optionsAreCheckedAgainstTheDeclaration() throws {
        var request = PruneRequest(ratio: 0.2)
        let rows = try #require(PruneMethods.named("random-rows"))
        #expect(throws: PruningError(option: "calib", "calib applies to wanda, sparsegpt, heads, slicegpt, shortgpt and laco, not random-rows")) {
            try rows.set("calib", .number(2), in: &request)
        }
        #expect(throws: PruningError(option: "foo", "random-rows takes no keyword foo")) { try rows.set("foo", .number(2), in: &request) }
        let prunenet = try #require(PruneMethods.named("prunenet"))
        #expect(throws: PruningError(option: "gamma", "gamma must be in [0, 1], got 2")) { try prunenet.set("gamma", .number(2), in: &request) }
        try prunenet.set("gamma", .number(0.5), in: &request)
        #expect(request.policy.gamma == 0.5 && request.given == ["gamma"])
        // An explicit none for an option whose default is none leaves it unset, whoever reads it.
        try rows.set("pattern", .none, in: &request)
        #expect(request.pattern == nil)
        let interp = try Self.session()
        let r = interp.run(cell: "prune(m, \"random-rows\", ratio=0.2, foo=1)", name: "probe")
        #expect(r.renderedDiagnostics.hasPrefix("probe:1:36: error: prune: random-rows takes no keyword foo"), "\(r.renderedDiagnostics)")
    }
}
