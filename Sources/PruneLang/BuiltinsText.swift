import Models

extension BuiltinRegistry {
    /// Registers text access: a data set's or a file's text, and splitting a string.
    public func registerText() {
        register(Builtin(
            name: "read_text", params: [.required("source", "string")],
            returns: "string", category: "basics",
            doc: "The text of a data set by name, built as its protocol says (\"wikitext2\": the WikiText-2 test split joined by blank lines, as `ppl` reads it; \"c4\": the calibration documents), or of a file by path, read whole as UTF-8.",
            example: "lines = filter(split(read_text(\"wikitext2\"), \"\\n\"), fn(s) { len(s) > 40 })\nlen(lines)") { a in
                do { return .string(try DataCatalog.text(of: try a.string("source"))) }
                catch let e as InferenceError { throw a.fail(argument: "source", e.description) }
            })
        register(Builtin(
            name: "split", params: [.required("text", "string"), .optional("separator", "string", default: .string("\n"), "a non-empty string")],
            returns: "list", category: "basics",
            doc: "The pieces of `text` between occurrences of `separator` (a newline by default), in order, empty pieces included, as Python's str.split(separator) gives them.",
            example: "split(\"a,b,,c\", \",\")") { a in
                let text = try a.string("text"), separator = try a.string("separator")
                guard !separator.isEmpty else { throw a.fail(argument: "separator", "separator must not be empty") }
                return .list(text.split(separator: separator, omittingEmptySubsequences: false).map { .string(String($0)) })
            })
    }
}
