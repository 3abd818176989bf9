#ifndef BATAMANTA_CLIBC_PROCESS_H
#define BATAMANTA_CLIBC_PROCESS_H

// What the daemon dispenser needs beyond CLibc.h: processes, signals and pipes. Only
// what Swift cannot call directly is wrapped: declarations musl hides without
// _GNU_SOURCE, and work on C strings and directory streams best done in C.

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

/// pipe2(2) with O_CLOEXEC on both ends; 0 or -1 with errno set.
int bm_proc_pipe(int fds[2]);

/// Closes every descriptor above 2 except those open on the directory `keep` (the
/// extraction lock the VM must hold), so a daemon keeps none of its starter's pipes.
/// Best effort: descriptors it cannot inspect are closed too.
void bm_daemon_close_inherited(const char *keep);

#endif
