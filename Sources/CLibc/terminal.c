#include "CLibc.h"

int bm_status_flags(int fd) { return fcntl(fd, F_GETFL); }

int bm_set_status_flags(int fd, int flags) { return fcntl(fd, F_SETFL, flags); }

int bm_default_disposition(int signal) {
    return sigaction(signal, &(struct sigaction){.sa_handler = SIG_DFL}, NULL);
}
