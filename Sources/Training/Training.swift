// Training: forward and backward passes, optimisers, a training loop and data for networks trained
// from scratch (the small networks of the lecture; the llama's fine-tuning will grow here on the same
// operations and optimisers). Laid out op by op as llm.c's train_gpt2.c is: each operation's forward
// beside its backward in a small file named for it (Ops/), the optimisers in Optimizers/, the data
// in Data/. Nothing here knows the language.

/// A user-facing error from training: a bad shape, option or data file, with a message that says
/// what and where.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// An argument outside its domain; the message says which and what was expected.
    case invalidArgument(String)
    /// A data file that could not be read or parsed; the message names the file and the line.
    case badData(String)

    public var description: String {
        switch self {
        case let .invalidArgument(message): return message
        case let .badData(message): return message
        }
    }
}
