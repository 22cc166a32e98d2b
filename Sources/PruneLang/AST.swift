/// Where a name lives once resolved: a slot of the current call's frame, a slot of an
/// enclosing function's frame (`depth` frames up), or the interpreter's globals.
enum NameSlot {
    case unresolved
    case local(Int)
    case enclosing(depth: Int, index: Int)
    case global
}

/// A use of a name in the tree, with its resolution (filled by the resolver).
final class NameRef {
    let name: String
    let span: Span
    @exclusivity(unchecked) var slot: NameSlot = .unresolved

    init(_ name: String, _ span: Span) {
        self.name = name
        self.span = span
    }
}

/// Binary operators (the short-circuit `and`/`or` are separate nodes).
enum BinaryOp: String {
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%", pow = "^", matmul = "@"
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    case `in` = "in", notIn = "not in"
}

/// Unary operators.
enum UnaryOp: String {
    case neg = "-", plus = "+", not = "not"
}

/// One argument of a call: an optional keyword, the value, and its span.
struct CallArgument {
    let name: String?
    let value: Expr
    let span: Span
}

/// One component of an index `a[...]`: a single index or a slice `start:stop:step`.
enum IndexComponent {
    case single(Expr)
    case slice(Expr?, Expr?, Expr?)
}

/// One parameter of a user function, with its default expression.
struct ParamDecl {
    let name: String
    let defaultValue: Expr?
    let span: Span
}

/// A function definition or literal: parameters, body, and frame layout (filled by the resolver).
final class FunctionDecl {
    var name: String
    let params: [ParamDecl]
    let body: [Stmt]
    let span: Span
    /// Number of frame slots: parameters first, then the other locals.
    var slotCount = 0
    /// Local names by slot (for debugging and completion).
    var localNames: [String] = []
    /// The compiled body, made on the first call, with the session it was compiled for.
    var compiled: CompiledBody?

    init(name: String, params: [ParamDecl], body: [Stmt], span: Span) {
        self.name = name
        self.params = params
        self.body = body
        self.span = span
    }
}

/// An `if` with its `else if` branches and optional `else`.
struct IfBranches {
    let branches: [(condition: Expr, body: [Stmt])]
    let elseBody: [Stmt]?
}

/// The expression forms.
indirect enum ExprKind {
    case number(Double)
    case string(String)
    case bool(Bool)
    case none
    case name(NameRef)
    case list([Expr])
    case record([(key: String, value: Expr)])
    case unary(UnaryOp, Expr)
    case binary(BinaryOp, Expr, Expr)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case range(Expr, Expr)
    case call(Expr, [CallArgument])
    case member(Expr, String, Span)
    case index(Expr, [IndexComponent])
    case function(FunctionDecl)
    case ifElse(IfBranches)
}

/// An expression node: its form and the source it covers.
final class Expr {
    let kind: ExprKind
    let span: Span
    /// The longest chain of nested nodes below this one (the parser bounds it).
    var height = 1

    init(_ kind: ExprKind, _ span: Span) {
        self.kind = kind
        self.span = span
    }
}

/// The statement forms. An `if` is an expression statement (its value is the branch taken).
enum StmtKind {
    case expr(Expr)
    /// `target = value`, or `target op= value` when `op` is set; target is a name, index or member.
    case assign(Expr, BinaryOp?, Expr)
    case function(NameRef, FunctionDecl)
    case forIn(NameRef, Expr, [Stmt])
    case whileLoop(Expr, [Stmt])
    case breakLoop
    case continueLoop
    case returnValue(Expr?)
    /// `?name`: show help for the value.
    case help(Expr)
}

/// A statement node: its form and the source it covers.
final class Stmt {
    let kind: StmtKind
    let span: Span

    init(_ kind: StmtKind, _ span: Span) {
        self.kind = kind
        self.span = span
    }
}

/// A parsed cell: its statements and whether a trailing `;` hides its value.
final class Program {
    let statements: [Stmt]
    let hidesValue: Bool
    let source: SourceText

    init(statements: [Stmt], hidesValue: Bool, source: SourceText) {
        self.statements = statements
        self.hidesValue = hidesValue
        self.source = source
    }
}
