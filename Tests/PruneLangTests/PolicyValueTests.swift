import Foundation
import Testing
import Models
import PruneLang
import TestHelpers

/// A trained policy shows how it was trained: the contribution penalty's weight and proxy as
/// members and in its summary table (absent from the table when λ = 0).
@Suite(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
struct PolicyValueTests {
    @Test func contributionSettingsShow() {
        setenv("PRUNELANG_MODELS", TestSupport.models.path, 1)
        let interp = Interpreter(output: { _ in })
        interp.displayHandler = { _ in }
        let setup = interp.run(cell: """
            m = load("smollm2-135m")
            p = train_policy(m, ratio=0.2, episodes=1, contribution=2)
            q = train_policy(m, ratio=0.2, episodes=1)
            """)
        #expect(setup.succeeded, "\(setup.renderedDiagnostics)")
        #expect(interp.run(cell: "p.contribution").display?.text == "2")
        #expect(interp.run(cell: "p.contribution_proxy").display?.text == "\"prompt\"")
        #expect(interp.run(cell: "q.contribution").display?.text == "0")
        let shown = interp.run(cell: "p").display?.text ?? ""
        #expect(shown.contains("ks + 2·contribution (prompt proxy)"), "\(shown)")
        let plain = interp.run(cell: "q").display?.text ?? ""
        #expect(!plain.contains("contribution"), "\(plain)")
    }
}
