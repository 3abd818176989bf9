#include "CLibcTerminal.h"

#include <fcntl.h>
#include <stddef.h>

int bm_term_status_flags(int fd) { return fcntl(fd, F_GETFL); }

int bm_term_set_status_flags(int fd, int flags) { return fcntl(fd, F_SETFL, flags); }

int bm_tui_default_disposition(int signal) {
    return sigaction(signal, &(struct sigaction){.sa_handler = SIG_DFL}, NULL);
}

int bm_tui_decode_status(int status, int *code, int *signal) {
    if (WIFEXITED(status)) {
        *code = WEXITSTATUS(status);
        return 1;
    }
    if (WIFSIGNALED(status)) {
        *signal = WTERMSIG(status);
        return 2;
    }
    return 0;
}
