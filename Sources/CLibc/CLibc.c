#define _GNU_SOURCE
#include "CLibc.h"

extern char **environ;

static int saved_argc;
static char **saved_argv;

// Embedded Swift has no CommandLine, and musl (unlike glibc) calls ELF constructors
// without (argc, argv, envp). Before main, environ is still the vector the kernel built:
// the System V ABI puts argc, then argv and its NULL, right below it. Only argc's slot
// holds a value that small, since every argv slot above it holds a string's address.
// It runs before other constructors, any of which could setenv() and move environ.
__attribute__((constructor(101))) static void capture_arguments(void) {
    char **argv_end = environ - 1;
    long argc = 0;
    while ((long)argv_end[-argc - 1] != argc) argc++;
    saved_argc = (int)argc;
    saved_argv = argv_end - argc;
}

int batamanta_argc(void) { return saved_argc; }
char *const *batamanta_argv(void) { return saved_argv; }
char *const *batamanta_environ(void) { return environ; }
int batamanta_errno(void) { return errno; }

int batamanta_openat(int dirfd, const char *path, int flags, mode_t mode) {
    return openat(dirfd, path, flags, mode);
}

int batamanta_syncfs(int fd) { return syncfs(fd); }

int batamanta_remove_tree_at(int parent, const char *name) {
    if (unlinkat(parent, name, 0) == 0 || errno == ENOENT) return 0;
    if (errno != EISDIR && errno != EPERM) return -1;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    // Extracted trees may contain read-only directories.
    (void)fchmod(fd, 0700);
    DIR *dir = fdopendir(fd);
    if (dir == NULL) {
        close(fd);
        return -1;
    }
    int result = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
        if (batamanta_remove_tree_at(dirfd(dir), entry->d_name) != 0) result = -1;
    }
    int saved = errno;
    closedir(dir);
    if (result != 0) {
        errno = saved;
        return -1;
    }
    return unlinkat(parent, name, AT_REMOVEDIR);
}
