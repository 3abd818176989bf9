#ifndef BATAMANTA_CLIBC_H
#define BATAMANTA_CLIBC_H

// libc for the Embedded Swift dispenser, which has no Glibc module. Only typed
// wrappers live here: variadic functions and C globals Swift cannot use directly.

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "CLibcTerminal.h"
#include "CLibcProcess.h"

int batamanta_argc(void);
char *const *batamanta_argv(void);
char *const *batamanta_environ(void);
int batamanta_errno(void);

int batamanta_syncfs(int fd);
int batamanta_openat(int dirfd, const char *path, int flags, mode_t mode);

/// Removes `name` under `parent` and, if it is a directory, everything below it, never
/// following symlinks. Returns 0 or -1 with errno set.
int batamanta_remove_tree_at(int parent, const char *name);

#endif
