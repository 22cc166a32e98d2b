/// llama.cpp's "smollm" pre-tokenizer (`tokenizer.ggml.pre = "smollm"`), which cuts text into the
/// words byte-level BPE then merges within. llama.cpp applies two expressions in sequence, the
/// second only inside the pieces the first leaves:
///
/// 1. `\p{N}`: every number scalar becomes a word of its own (so digits never group);
/// 2. GPT-2's `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
///    with llama.cpp's reading of it: the contractions are lower-case only, and a piece's end
///    counts as "no following character" for the `(?!\S)` look-ahead.
///
/// Letters, numbers and whitespace are Unicode's general categories L* and N* and the White_Space
/// property, as Swift's `Unicode.Scalar.Properties` report them.
public struct SmolLMPreTokenizer: Sendable {
    /// A pre-tokenizer (it has no settings).
    public init() {}

    /// The words of `text`, in order; joined they give `text` back.
    public func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let values = scalars.map(\.value)
        let classes = values.map(ScalarClass.of)
        var ends: [Int] = []
        values.withUnsafeBufferPointer { v in
            classes.withUnsafeBufferPointer { c in wordEnds(v, c, into: &ends) }
        }
        var words: [String] = []
        var start = 0
        for end in ends {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[start..<end])
            words.append(String(view))
            start = end
        }
        return words
    }

    /// Appends to `ends` the end index (exclusive, in scalars) of each word of the scalar values
    /// `cps`, whose classes (`ScalarClass`) are `classes`.
    func wordEnds(_ cps: UnsafeBufferPointer<UInt32>, _ classes: UnsafeBufferPointer<UInt8>,
                  into ends: inout [Int]) {
        // Pass 1 (`\p{N}`): number scalars alone, runs of anything else between them.
        var i = 0
        let n = cps.count
        while i < n {
            if classes[i] == ScalarClass.number {
                ends.append(i + 1)       // the GPT-2 pass leaves a lone number scalar alone
                i += 1
                continue
            }
            var j = i + 1
            while j < n && classes[j] != ScalarClass.number { j += 1 }
            gpt2(cps, classes, i, j, into: &ends)
            i = j
        }
    }

    /// Appends the word ends of GPT-2's expression alone over all of `cps` (no digit pass), for
    /// the pre-tokenizers that use it.
    func gpt2Words(_ cps: UnsafeBufferPointer<UInt32>, _ classes: UnsafeBufferPointer<UInt8>,
                   into ends: inout [Int]) {
        gpt2(cps, classes, 0, cps.count, into: &ends)
    }

    /// Pass 2: the GPT-2 expression inside the piece `lo ..< hi`, as llama.cpp's hand-written
    /// matcher (`unicode_regex_split_custom_gpt2`) reads it.
    @inline(__always)
    private func gpt2(_ cps: UnsafeBufferPointer<UInt32>, _ classes: UnsafeBufferPointer<UInt8>,
                      _ lo: Int, _ hi: Int, into ends: inout [Int]) {
        let letter = ScalarClass.letter, number = ScalarClass.number, space = ScalarClass.whitespace
        // The class at `p`, or 0 outside the piece.
        @inline(__always) func cls(_ p: Int) -> UInt8 { p < hi ? classes[p] : 0 }
        var pos = lo
        var prevEnd = lo
        @inline(__always) func emit(_ end: Int) {
            if end > prevEnd { ends.append(end) }
            prevEnd = end
        }
        while pos < hi {
            let cpt = cps[pos]
            // 's|'t|'re|'ve|'m|'ll|'d
            if cpt == 0x27 && pos + 1 < hi {
                let a = cps[pos + 1]
                if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 {       // s t m d
                    pos += 2; emit(pos); continue
                }
                if pos + 2 < hi {
                    let b = cps[pos + 2]
                    if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) {
                        pos += 3; emit(pos); continue                        // re ve ll
                    }
                }
            }
            let isSpace = cpt == 0x20
            var c2 = isSpace ? cls(pos + 1) : classes[pos]
            // ' ?\p{L}+'
            if c2 == letter {
                if isSpace { pos += 1 }
                while c2 == letter { pos += 1; c2 = cls(pos) }
                emit(pos); continue
            }
            // ' ?\p{N}+'
            if c2 == number {
                if isSpace { pos += 1 }
                while c2 == number { pos += 1; c2 = cls(pos) }
                emit(pos); continue
            }
            // ' ?[^\s\p{L}\p{N}]+'
            if c2 == ScalarClass.other {
                if isSpace { pos += 1 }
                while c2 == ScalarClass.other { pos += 1; c2 = cls(pos) }
                emit(pos); continue
            }
            var spaces = 0
            while cls(pos + spaces) == space { spaces += 1 }
            // '\s+(?!\S)': all but the last whitespace when a non-space follows inside the piece
            if spaces > 1 && pos + spaces < hi {
                pos += spaces - 1; emit(pos); continue
            }
            // '\s+'
            if spaces > 0 {
                pos += spaces; emit(pos); continue
            }
            pos += 1
            emit(pos)
        }
    }
}
