import Foundation
import Testing
import PruneLang
import TestHelpers

/// `calib_data=` and `calib_seed=` at the language: bad values fail at the option with the
/// library's message, calibrating on WikiText-2's test split prints a warning on the error stream
/// (and only then), and the help says what each takes and that the test split leaks.
@Suite(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"), .serialized)
struct CalibrationOptionTests {
    /// A session with SmolLM2 as `m` whose error stream is collected in `errors`.
    final class Probe {
        var errors = ""
        var printed = ""
        let interp: Interpreter
        init() throws {
            setenv("PRUNELANG_MODELS", TestSupport.models.path, 1)
            setenv("PRUNELANG_DATA", TestSupport.data.path, 1)
            interp = Interpreter(output: { _ in })
            interp.output = { [unowned self] in self.printed += $0 }
            interp.displayHandler = { [unowned self] bundle in self.printed += bundle.text + "\n" }
            interp.errorOutput = { [unowned self] in self.errors += $0 }
            let r = interp.run(cell: "m = load(\"smollm2-135m\");")
            try #require(r.succeeded, "\(r.renderedDiagnostics)")
        }

        /// The diagnostics of `cell` (named "probe"), "" when it succeeds.
        func diagnostics(_ cell: String) -> String { interp.run(cell: cell, name: "probe").renderedDiagnostics }
    }

    /// "probe:1:C: error: prune: MESSAGE" with C the column of `at` in `cell`.
    static func located(_ cell: String, at: String, _ message: String) -> String {
        let column = cell.distance(from: cell.startIndex, to: cell.range(of: at)!.lowerBound) + 1
        return "probe:1:\(column): error: prune: \(message)"
    }

    @Test func badValuesFailAtTheOption() throws {
        let p = try Probe()
        let missing = "prune(m, \"wanda\", ratio=0.5, calib_data=\"no/such/file.txt\")"
        #expect(p.diagnostics(missing).hasPrefix(Self.located(missing, at: "calib_data=", "calib_data \"no/such/file.txt\" is neither a data set (\"c4\", \"wikitext2\", \"wikitext2-test\") nor a readable text file")),
                "\(p.diagnostics(missing))")
        let seed = "prune(m, \"sparsegpt\", pattern=\"2:4\", calib_seed=-2)"
        #expect(p.diagnostics(seed).hasPrefix(Self.located(seed, at: "calib_seed=", "calib_seed must be between 0 and 9007199254740992, got -2")), "\(p.diagnostics(seed))")
        let type = "prune(m, \"wanda\", ratio=0.5, calib_data=3)"
        #expect(p.diagnostics(type).contains("calib_data must be a string"), "\(p.diagnostics(type))")
        let rows = "prune(m, \"random-rows\", ratio=0.2, calib_seed=1)"
        #expect(p.diagnostics(rows).contains("calib_seed applies to wanda, sparsegpt, heads, slicegpt, shortgpt and laco, not random-rows"), "\(p.diagnostics(rows))")
        let trainSplit = URL(fileURLWithPath: TestSupport.data.path).appendingPathComponent("wikitext-2-raw/wiki.train.raw").path
        if !FileManager.default.fileExists(atPath: trainSplit) {
            let wiki = "prune(m, \"wanda\", ratio=0.5, calib_data=\"wikitext2\")"
            let d = p.diagnostics(wiki)
            #expect(d.hasPrefix(Self.located(wiki, at: "calib_data=", "the data folder")) && d.contains("no WikiText-2 train split") && d.contains("calib_data=\"wikitext2-test\""), "\(d)")
        }
        #expect(p.errors.isEmpty, "no warning for a refused call: \(p.errors)")
        // The session is still usable.
        #expect(p.interp.run(cell: "1 + 1").succeeded)
    }

    @Test func theTestSplitIsWarnedAboutAndNothingElseIs() throws {
        let p = try Probe()
        // heads by norm reads calib_data but draws no windows: the warning costs no forward pass.
        #expect(p.diagnostics("h = prune(m, \"heads\", ratio=1/3, calib_data=\"c4\", calib_seed=2);") == "")
        #expect(p.errors.isEmpty, "\(p.errors)")
        #expect(p.diagnostics("h = prune(m, \"heads\", ratio=1/3, calib_data=\"wikitext2-test\");") == "")
        #expect(p.errors.hasPrefix("warning: calib_data=\"wikitext2-test\" calibrates on WikiText-2's test split, the text ppl scores"), "\(p.errors)")
        #expect(p.errors.contains("leakage") && p.errors.hasSuffix("\n"))
    }

    @Test func theHelpSaysWhatTheyTake() throws {
        let p = try Probe()
        let r = p.interp.run(cell: "help(\"prune\")")
        let prune = p.printed + (r.display?.text ?? "")
        #expect(prune.contains("calib_data") && prune.contains("calib_seed") && prune.contains("leakage"), "\(prune)")
        p.printed = ""
        #expect(p.interp.run(cell: "print(prune_methods(\"wanda\"))").succeeded)
        let wanda = p.printed
        #expect(wanda.contains("calib_data=\"c4\" (string)") && wanda.contains("calib_seed=none (number)"), "\(wanda)")
        #expect(wanda.contains("tokens from calib_data (C4 unless given), drawn with calib_seed (seed unless given)"), "\(wanda)")
    }
}
