/// A user-facing error from a numerical routine: bad input (shape, non-finite values, empty
/// data, an out-of-range argument) or a LAPACK failure, each with a message that says what and where.
public enum NumericsError: Error, Equatable, CustomStringConvertible {
    /// A NaN or infinity in the input `what`, at flat (row-major) index `index`.
    case nonFinite(what: String, index: Int)
    /// A NaN or infinity in the matrix `what`, at (row, col).
    case nonFiniteMatrix(what: String, row: Int, col: Int)
    /// The input `what` holds no values where at least one is needed.
    case empty(what: String)
    /// Operand shapes do not fit together; the message names both.
    case shapeMismatch(String)
    /// An argument outside its domain; the message says which and what was expected.
    case invalidArgument(String)
    /// A LAPACK routine returned a non-zero `info`.
    case lapack(routine: String, info: Int32)

    public var description: String {
        switch self {
        case let .nonFinite(what, index):
            return "input '\(what)' has a non-finite value (NaN or infinity) at index \(index)"
        case let .nonFiniteMatrix(what, row, col):
            return "matrix '\(what)' has a non-finite value (NaN or infinity) at row \(row), column \(col)"
        case let .empty(what):
            return "input '\(what)' is empty"
        case let .shapeMismatch(message):
            return "shape mismatch: \(message)"
        case let .invalidArgument(message):
            return message
        case let .lapack(routine, info):
            if info < 0 { return "LAPACK \(routine): argument \(-info) is invalid (internal error)" }
            return "LAPACK \(routine) failed (info = \(info)): \(Self.lapackMeaning(routine, info))"
        }
    }

    private static func lapackMeaning(_ routine: String, _ info: Int32) -> String {
        switch routine.dropFirst() {
        case "potrf", "potri": return "the matrix is not positive definite (leading minor \(info))"
        case "gesdd", "gesvd", "bdsdc": return "the SVD did not converge"
        case "syevd", "syev", "syevr": return "the eigensolver did not converge"
        default: return "the routine did not converge"
        }
    }
}
