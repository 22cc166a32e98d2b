import Foundation
import Testing
@testable import PruneLang
import TestHelpers

/// docs/LANGUAGE.md is generated from the builtins registry; these tests keep it fresh and keep
/// every builtin's example working.
struct LanguageDocsTests {
    static let path = TestSupport.root.appendingPathComponent("docs/LANGUAGE.md")

    @Test func languageDocsMatchTheRegistry() throws {
        let rendered = LanguageDocs.render(.standard())
        if ProcessInfo.processInfo.environment["PRUNELANG_UPDATE_GOLDEN"] == "1" {
            try rendered.write(to: Self.path, atomically: true, encoding: .utf8)
            return
        }
        let committed = try? String(contentsOf: Self.path, encoding: .utf8)
        #expect(committed == rendered, """
            docs/LANGUAGE.md is stale: it differs from LanguageDocs.render(). Regenerate it with
              PRUNELANG_UPDATE_GOLDEN=1 swift test -c release -Xswiftc -enable-testing --scratch-path .build-lang --filter LanguageDocs
            and commit the result.
            """)
    }

    @Test func docsListEveryBuiltinWithSignatureAndExample() {
        let registry = BuiltinRegistry.standard()
        let md = LanguageDocs.render(registry)
        for b in registry.all {
            #expect(md.contains("#### \(b.name)\n"), "\(b.name) has a section")
            #expect(md.contains("`\(b.fullSignature)`"), "\(b.name) shows its signature")
            #expect(!b.doc.isEmpty && !b.example.isEmpty, "\(b.name) has a doc and an example")
        }
    }

    @Test func everyExampleRunsInAFreshSession() {
        for b in BuiltinRegistry.standard().all {
            var out = ""
            let interp = Interpreter(output: { out += $0 })
            let r = interp.run(cell: b.example, name: "example of \(b.name)")
            // Examples that load a model need the models folder; where it was not fetched, the
            // error says so (naming scripts/fetch-models), and the example is not held against the docs.
            if !r.succeeded, r.renderedDiagnostics.contains("fetch-models") { continue }
            #expect(r.succeeded, "\(b.name)'s example fails: \(r.renderedDiagnostics)")
        }
    }

    @Test func coreVocabularyIsRegistered() {
        let names = Set(BuiltinRegistry.standard().names)
        for n in ["print", "help", "len", "range", "sum", "mean", "std", "min", "max", "abs", "sqrt", "log", "exp",
                  "sort", "matrix", "randn", "rand", "shape", "svdvals", "svd", "ks", "ad", "stable_rank",
                  "powerlaw", "drop_rows", "rows", "cols", "transpose", "quantile", "type"] {
            #expect(names.contains(n), "\(n) is a builtin")
        }
    }
}
