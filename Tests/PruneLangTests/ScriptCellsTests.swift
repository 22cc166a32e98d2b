import Foundation
import Testing
import PruneLang

/// The one `#%%` rule (`prunelang run` and scripts/prune-to-ipynb both follow it; the Python test
/// Tests/python/test_notebook_tools.py checks the two paths agree on a harder file).
struct ScriptCellsTests {
    func kinds(_ text: String) -> [String] {
        ScriptCells.split(text).map { "\($0.kind.rawValue)@\($0.line): \($0.source)" }
    }

    @Test func marksTitlesAndMarkdownCells() {
        let text = """
            # # Lecture
            # words
            #%% First step
            x = 1

            x
            #%% [markdown] ignored
            # ## Part two
            #
            plain line
            #%%
            #%%

            y = 2
            #%%
            """
        #expect(kinds(text) == [
            "markdown@1: # Lecture\nwords",
            "markdown@3: First step",
            "code@4: x = 1\n\nx",
            "markdown@8: ## Part two\n\nplain line",
            "code@14: y = 2",
        ])
    }

    @Test func preambleWithCodeIsCodeAndBlankCellsVanish() {
        #expect(kinds("# setup\nm = 1\n#%%\n\n   \n#%%\nm") == ["code@1: # setup\nm = 1", "code@7: m"])
        #expect(kinds("") == [])
        #expect(kinds("#%%") == [])
        #expect(kinds("#%% only a title") == ["markdown@1: only a title"])
    }

    @Test func onlyMarksAtTheStartOfALineCount() {
        #expect(kinds("a = 1\n  #%% not a mark\ns = \"#%%\"\n#%%b = 2\nb")
                == ["code@1: a = 1\n  #%% not a mark\ns = \"#%%\"", "markdown@4: b = 2", "code@5: b"])
    }

    @Test func crlfLinesSplitLikeLFLines() {
        let lf = "# title\n#%% step\nx = 1\n\nx\n#%% [markdown]\n# text\n"
        let crlf = lf.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(crlf.contains("\r\n#%% step\r\n"))
        #expect(ScriptCells.split(crlf) == ScriptCells.split(lf))
        #expect(ScriptCells.split(lf).map(\.source) == ["title", "step", "x = 1\n\nx", "text"])
    }
}
