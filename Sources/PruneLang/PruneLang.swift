/// PruneLang: the language — lexer, parser, evaluator, values, the builtins with their docs, and
/// display of values as MIME bundles. A thin layer over Numerics, Models, Pruning and Plots.
/// (Empty until the language issue lands.)
