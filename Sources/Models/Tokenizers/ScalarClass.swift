/// The three Unicode classes llama.cpp's GPT-2-style pre-tokenizers look at: letters (`\p{L}`),
/// numbers (`\p{N}`) and whitespace (`\s`, the White_Space property), plus "other" for every
/// remaining scalar, so that a scalar inside the text never has an empty class.
///
/// llama.cpp's tables (unicode-data.cpp) are Unicode 15.1; Swift's may be newer. A scalar
/// assigned after 15.1 is unassigned to llama.cpp, hence "other" here too (e.g. U+1C89, a
/// Unicode 16 capital letter, does not join a word), so ids stay equal to llama.cpp's.
enum ScalarClass {
    /// General category L* (Lu, Ll, Lt, Lm, Lo).
    static let letter: UInt8 = 1
    /// General category N* (Nd, Nl, No).
    static let number: UInt8 = 2
    /// The White_Space property (U+0009…000D, space, U+0085, NBSP, U+1680, U+2000…200A, ...).
    static let whitespace: UInt8 = 4
    /// Any other scalar (punctuation, symbols, marks, controls, unassigned).
    static let other: UInt8 = 8

    /// The class of every scalar of the Basic Multilingual Plane, computed once.
    private static let bmp: [UInt8] = (0..<0x10000).map { compute(UInt32($0)) }

    /// The class of the scalar with value `v`.
    @inline(__always)
    static func of(_ v: UInt32) -> UInt8 {
        v < 0x10000 ? bmp[Int(v)] : compute(v)
    }

    /// The Unicode version of llama.cpp's category tables.
    static let tableVersion = (major: 15, minor: 1)

    /// The class from Swift's Unicode properties (surrogate code points, unassigned ones and
    /// those assigned after `tableVersion` count as "other").
    static func compute(_ v: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(v) else { return other }
        let p = scalar.properties
        if p.isWhitespace { return whitespace }
        guard let age = p.age,
              age.major < tableVersion.major || (age.major == tableVersion.major && age.minor <= tableVersion.minor)
        else { return other }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return number
        default:
            return other
        }
    }
}
