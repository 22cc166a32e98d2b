import Foundation
import Testing
import Models
@testable import PruneLang
import TestHelpers

/// Runs every script in `corpus/` and compares what it prints, shows and reports with the `.out`
/// file beside it. A script is split into cells at lines starting with `#%%`; cells share one
/// session, as in a notebook. `PRUNELANG_UPDATE_GOLDEN=1` rewrites the `.out` files. A script
/// whose first line is `# requires: models` runs only where the models have been fetched.
/// `PRUNELANG_GOLDEN_ONLY=name` runs (or rewrites) only the scripts whose file name contains it.
struct GoldenCorpusTests {
    static let corpus = TestSupport.root.appendingPathComponent("Tests/PruneLangTests/corpus")

    /// The corpus scripts, sorted.
    static func scripts() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: corpus.resolvingSymlinksInPath(), includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "prune" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Splits a script into cells at `#%%` lines: (first line number, text).
    static func cells(_ text: String) -> [(line: Int, text: String)] {
        var cells: [(Int, [Substring])] = [(1, [])]
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("#%%") {
                cells.append((i + 2, []))
            } else {
                cells[cells.count - 1].1.append(line)
            }
        }
        return cells.map { ($0.0, $0.1.joined(separator: "\n")) }
            .filter { !$0.1.allSatisfy { $0.isWhitespace } }
    }

    /// What a script produces, in the `.out` format: per cell a `#%% line N` header, the printed
    /// output, `=> ` and the shown value, and rendered diagnostics.
    static func transcript(of script: URL) throws -> String {
        let text = try String(contentsOf: script, encoding: .utf8)
        var out = ""
        let interp = Interpreter(output: { out += $0 })
        interp.displayHandler = { out += "[display]\n" + $0.text + "\n" }
        for cell in cells(text) {
            out += "#%% line \(cell.line)\n"
            let r = interp.run(cell: cell.text, name: script.lastPathComponent, firstLine: cell.line)
            if let d = r.display { out += "=> " + d.text + "\n" }
            if !r.diagnostics.isEmpty { out += r.renderedDiagnostics + "\n" }
        }
        return out
    }

    @Test func corpusUsesEveryBuiltinAndStatement() throws {
        let text = try Self.scripts().map { try String(contentsOf: $0, encoding: .utf8) }.joined(separator: "\n")
        for b in BuiltinRegistry.standard().all {
            #expect(text.contains("\(b.name)("), "the corpus calls \(b.name)")
        }
        for form in ["fn ", "return", "if ", "else if", "else", "for ", "while ", "break", "continue", "?", "+=", "-=", "*=", "/=",
                     "|>", "..", "@", "^", "%", " and ", " or ", "not ", " in ", "not in", "[::-1]", "[0:2, 1:3]", "#%%"] {
            #expect(text.contains(form), "the corpus uses \(form)")
        }
    }

    /// Whether a script's first-line requirements hold: `# requires: models` needs both models
    /// fetched into the models folder (scripts/fetch-models); such scripts are skipped otherwise.
    static func requirementsMet(_ script: URL) throws -> Bool {
        let text = try String(contentsOf: script, encoding: .utf8)
        guard text.hasPrefix("# requires: models") else { return true }
        return ModelCatalog.isFetched("smollm2-135m") && ModelCatalog.isFetched("minilm-l6")
    }

    /// The corpus's script names, for the parameterised test (empty when the folder is unreadable,
    /// which `corpusHasItsScripts` reports).
    static let scriptNames = (try? scripts().map(\.lastPathComponent)) ?? []

    @Test func corpusHasItsScripts() throws {
        #expect(try Self.scripts().count >= 10, "the corpus has its scripts")
    }

    /// One script against its `.out`; the scripts run side by side, each in its own session.
    @Test(arguments: scriptNames)
    func scriptMatchesItsGoldenFile(_ name: String) throws {
        let script = Self.corpus.resolvingSymlinksInPath().appendingPathComponent(name)
        guard try Self.requirementsMet(script) else { return }
        let update = ProcessInfo.processInfo.environment["PRUNELANG_UPDATE_GOLDEN"] == "1"
        if let only = ProcessInfo.processInfo.environment["PRUNELANG_GOLDEN_ONLY"], !name.contains(only) { return }
        let got = try Self.transcript(of: script)
        let golden = script.deletingPathExtension().appendingPathExtension("out")
        if update {
            try got.write(to: golden, atomically: true, encoding: .utf8)
            return
        }
        guard let want = try? String(contentsOf: golden, encoding: .utf8) else {
            Issue.record("\(golden.lastPathComponent) is missing; run PRUNELANG_UPDATE_GOLDEN=1 swift test ... --filter GoldenCorpus")
            return
        }
        if got != want {
            let g = got.split(separator: "\n", omittingEmptySubsequences: false)
            let w = want.split(separator: "\n", omittingEmptySubsequences: false)
            let k = (0..<min(g.count, w.count)).first { g[$0] != w[$0] } ?? min(g.count, w.count)
            Issue.record("""
                \(name) differs from its .out at line \(k + 1):
                  expected: \(k < w.count ? String(w[k]) : "<end>")
                  got:      \(k < g.count ? String(g[k]) : "<end>")
                Regenerate with PRUNELANG_UPDATE_GOLDEN=1 swift test -c release -Xswiftc -enable-testing --scratch-path .build-lang --filter GoldenCorpus (and review the diff).
                """)
        }
    }
}
