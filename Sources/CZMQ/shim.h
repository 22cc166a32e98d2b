// libzmq's C API (libzmq3-dev) for the Jupyter kernel's sockets.
#ifndef PRUNELANG_CZMQ_SHIM_H
#define PRUNELANG_CZMQ_SHIM_H
#include <zmq.h>
#endif
