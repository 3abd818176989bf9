#ifndef BM_CLIBC_TERMINAL_H
#define BM_CLIBC_TERMINAL_H

// What the tui dispenser needs beyond CLibc.h: termios, file status flags and signal
// dispositions. Only the macros and variadic calls Swift cannot reach are wrapped.

#include <termios.h>

/// fcntl(F_GETFL): the file status flags (O_NONBLOCK among them), or -1.
int bm_status_flags(int fd);
/// fcntl(F_SETFL); 0 or -1.
int bm_set_status_flags(int fd, int flags);

/// Sets `signal` to its default disposition; 0 or -1.
int bm_default_disposition(int signal);

#endif
