#ifndef BM_CLIBC_H
#define BM_CLIBC_H

// libc for the Embedded Swift dispensers, which have no Glibc module. Only typed
// wrappers live here: variadic functions and C globals Swift cannot use directly.

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "CLibcTerminal.h"
#include "CLibcPlatform.h"
#include "CLibcSyncer.h"
#include "CLibcRelay.h"

char *const *bm_environ(void);
int bm_errno(void);

int bm_openat(int dirfd, const char *path, int flags, mode_t mode);

/// Removes `name` under `parent` and, if it is a directory, everything below it, never
/// following symlinks. Returns 0 or -1 with errno set.
int bm_remove_tree_at(int parent, const char *name);

#endif
