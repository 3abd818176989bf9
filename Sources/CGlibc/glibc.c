#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "bm_glibc.h"

int bm_mkstemp_cloexec(char *template_path) {
    return mkostemp(template_path, O_CLOEXEC);
}

int bm_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}
