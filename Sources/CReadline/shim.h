// GNU readline and history (libreadline-dev) for the REPL's line editor.
#ifndef PRUNELANG_CREADLINE_SHIM_H
#define PRUNELANG_CREADLINE_SHIM_H
#include <stdio.h>
#include <readline/readline.h>
#include <readline/history.h>
#endif
