/// REPL: the interactive PruneLang prompt on GNU readline (through the CReadline shim), with
/// history, completion and Ctrl-C that cancels a cell without losing the session.
/// (Empty until the language issue lands.)
