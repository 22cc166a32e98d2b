import Foundation
@testable import PruneLang

/// A session that collects what it prints, for tests.
final class Session {
    var printed = ""
    let interp: Interpreter

    init(registry: BuiltinRegistry = .standard()) {
        var sink = ""
        interp = Interpreter(registry: registry, output: { sink += $0 })
        _ = sink
        interp.output = { [unowned self] in self.printed += $0 }
    }

    /// Runs a cell; returns the shown text (or "" when nothing is shown), failing loudly on errors.
    @discardableResult
    func run(_ code: String) -> CellResult { interp.run(cell: code) }

    /// The `text/plain` of the cell's value, or the rendered diagnostics.
    func show(_ code: String) -> String {
        let r = interp.run(cell: code)
        if !r.diagnostics.isEmpty { return r.renderedDiagnostics }
        return r.display?.text ?? ""
    }
}
