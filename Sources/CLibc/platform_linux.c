#define _GNU_SOURCE
#include "CLibc.h"

#include <sys/syscall.h>
#include <sys/resource.h>

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

int bm_argc(void) { return saved_argc; }
char *const *bm_argv(void) { return saved_argv; }

int bm_start_writeback(int fd) { return sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE); }

int bm_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

static int close_range_of(unsigned first, unsigned last) {
    if (first > last) return 0;
    return (int)syscall(SYS_close_range, first, last, 0);
}

void bm_close_descriptors_except(int kept) {
    unsigned keep = kept > 2 ? (unsigned)kept : 0;
    int failed = keep ? close_range_of(3, keep - 1) != 0 || close_range_of(keep + 1, ~0U) != 0
                      : close_range_of(3, ~0U) != 0;
    if (!failed) return;
    // Kernels before 5.9 have no close_range: close each number below the limit, which
    // no descriptor can reach (a limit lowered since is the caller's own doing). Capped,
    // as a limit of 2^30 would take minutes.
    struct rlimit limit;
    rlim_t end = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1 << 20;
    if (end > 1 << 20) end = 1 << 20;
    for (rlim_t fd = 3; fd < end; fd++) {
        if ((int)fd != kept) close((int)fd);
    }
}
