#ifndef BATAMANTA_CLIBC_TERMINAL_H
#define BATAMANTA_CLIBC_TERMINAL_H

// What the tui dispenser needs beyond CLibc.h: termios, signals and child status.
// Only the macros and variadic calls Swift cannot reach are wrapped.

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>

/// fcntl(F_GETFL): the file status flags (O_NONBLOCK among them), or -1.
int bm_term_status_flags(int fd);
/// fcntl(F_SETFL); 0 or -1.
int bm_term_set_status_flags(int fd, int flags);

/// Sets `signal` to its default disposition; 0 or -1.
int bm_tui_default_disposition(int signal);

/// Decodes a waitpid status: returns 1 and sets *code for a normal exit, 2 and sets
/// *signal when a signal ended the process, 0 otherwise (stopped or continued).
int bm_tui_decode_status(int status, int *code, int *signal);

#endif
