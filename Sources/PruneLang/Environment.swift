/// The variables of one function call: a fixed number of slots laid out by the resolver, and the
/// frame of the function that defined this one (for closures).
final class Frame {
    /// The slots, allocated once per call (a raw buffer: no array bookkeeping on each access).
    let slots: UnsafeMutablePointer<Value?>
    let count: Int
    let parent: Frame?
    let decl: FunctionDecl?

    init(slotCount: Int, parent: Frame?, decl: FunctionDecl?) {
        count = slotCount
        slots = .allocate(capacity: max(1, slotCount))
        slots.initialize(repeating: nil, count: slotCount)
        self.parent = parent
        self.decl = decl
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    /// The frame `depth` levels up (0 is self).
    func ancestor(_ depth: Int) -> Frame {
        var f = self
        for _ in 0..<depth { f = f.parent! }
        return f
    }
}

/// The session's global variables, kept across cells: a name → slot table and the slots, so that
/// a resolved name reads its global with one array access.
final class Globals {
    private(set) var index: [String: Int] = [:]
    private(set) var names: [String] = []
    @exclusivity(unchecked) var values: [Value?] = []

    /// The slot of `name`, created (unset) when new.
    func slot(for name: String) -> Int {
        if let i = index[name] { return i }
        let i = values.count
        index[name] = i
        names.append(name)
        values.append(nil)
        return i
    }

    /// The slot of `name` when it has one.
    func existingSlot(_ name: String) -> Int? { index[name] }

    /// The value of `name`, nil when unset.
    func get(_ name: String) -> Value? {
        guard let i = index[name] else { return nil }
        return values[i]
    }

    /// Sets `name`.
    func set(_ name: String, _ value: Value) {
        values[slot(for: name)] = value
    }

    /// The names that currently hold a value.
    var definedNames: [String] {
        names.enumerated().compactMap { values[$0.offset] == nil ? nil : $0.element }
    }
}

/// A user function value: its definition and the frame it closes over (nil at top level).
public final class Function {
    let decl: FunctionDecl
    let closure: Frame?
    /// The source the function was written in, kept alive for its spans.
    let source: SourceText
    /// Default values of the parameters, evaluated where the function was defined.
    let defaults: [Value?]

    init(decl: FunctionDecl, closure: Frame?, defaults: [Value?]) {
        self.decl = decl
        self.closure = closure
        self.defaults = defaults
        self.source = decl.span.source
    }

    /// The function's name (`<fn>` for a literal).
    public var name: String { decl.name }
    /// The parameter names, in order.
    public var parameterNames: [String] { decl.params.map(\.name) }
    /// `name(a, b=1)`, with defaults as written.
    public var signature: String {
        "\(decl.name)(" + decl.params.map { p in
            if let d = p.defaultValue { return "\(p.name)=\(d.span.text)" }
            return p.name
        }.joined(separator: ", ") + ")"
    }
}
