/// Kernel: the Jupyter messaging protocol v5.3 over ZeroMQ (libzmq through the CZMQ shim),
/// serving PruneLang to notebooks. (Empty until the kernel issue lands.)
