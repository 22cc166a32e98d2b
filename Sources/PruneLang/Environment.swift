/// Where variables live and how a name reads and writes them: the frames of calls, the session's
/// globals, and the one rule that turns a resolved name into its reads and writes.

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

/// What a compiled name assignment runs: stores the value in the name's place.
typealias StoreCode = (Interpreter, Value, Frame?) -> Void
/// What a compiled in-place change of a variable runs: the change gets the variable's value to
/// modify (as its only reference, so containers change without a copy).
typealias ModifyCode = (Interpreter, Frame?, (inout Value) throws -> Void) throws -> Void

/// Names, once the resolver gave each a place: a slot of the current frame, a slot of an enclosing
/// function's frame, or a global of the session, which falls back to the builtin of that name.
/// Each use of a name is compiled once into a closure that goes straight to its place; these are
/// the only reads and writes of variables.
extension Interpreter {
    /// The read of `ref`; an unset name fails with `undefined`.
    func loader(_ ref: NameRef) -> ExprCode {
        switch ref.slot {
        case .local(let i):
            return { ip, f in
                if let v = f!.slots[i] { return v }
                throw ip.undefined(ref, f)
            }
        case .enclosing(let d, let i):
            return { ip, f in
                if let v = f!.ancestor(d).slots[i] { return v }
                throw ip.undefined(ref, f)
            }
        case .global, .unresolved:
            let g = globals.slot(for: ref.name)
            return { ip, f in
                if let v = ip.globals.values[g] { return v }
                if let b = ip.registry.lookup(ref.name) {
                    ip.globals.values[g] = .builtin(b)
                    return .builtin(b)
                }
                throw ip.undefined(ref, f)
            }
        }
    }

    /// The write of `ref`.
    func storer(_ ref: NameRef) -> StoreCode {
        switch ref.slot {
        case .local(let i): return { _, v, f in f!.slots[i] = v }
        case .enclosing(let d, let i): return { _, v, f in f!.ancestor(d).slots[i] = v }
        case .global, .unresolved:
            let g = globals.slot(for: ref.name)
            return { ip, v, _ in ip.globals.values[g] = v }
        }
    }

    /// The in-place change of `ref`: reads it, leaves `none` in its place while the change runs (so
    /// the value is uniquely referenced), then puts the value back, changed or not, even when the
    /// change fails.
    func modifier(_ ref: NameRef) -> ModifyCode {
        let load = loader(ref), store = storer(ref)
        return { ip, f, change in
            var v = try load(ip, f)
            store(ip, .none, f)
            defer { store(ip, v, f) }
            try change(&v)
        }
    }

    /// The error for reading `ref` while it is unset, with a suggestion among the names in scope.
    func undefined(_ ref: NameRef, _ frame: Frame?) -> LangError {
        var candidates = Set(globals.definedNames)
        candidates.formUnion(registry.names)
        var f = frame
        while let fr = f { candidates.formUnion(fr.decl?.localNames ?? []); f = fr.parent }
        if case .local = ref.slot {
            return LangError(.name, "local variable '\(ref.name)' is used before it is assigned", ref.span)
        }
        if case .enclosing = ref.slot {
            return LangError(.name, "variable '\(ref.name)' of the enclosing function is used before it is assigned", ref.span)
        }
        if ref.name == "exit" || ref.name == "quit" {
            return LangError(.name, "name '\(ref.name)' is not defined: at the prompt, `\(ref.name)` or Ctrl-D leaves; a script or notebook ends after its last cell", ref.span)
        }
        return LangError(.name, "name '\(ref.name)' is not defined\(didYouMean(ref.name, candidates))", ref.span)
    }
}
