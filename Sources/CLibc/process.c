#define _GNU_SOURCE
#include "CLibcProcess.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int bm_proc_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

void bm_daemon_close_inherited(const char *keep) {
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) return;
    int fds[1024];
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && count < 1024) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        int fd = atoi(entry->d_name);
        if (fd > 2 && fd != dirfd(dir)) fds[count++] = fd;
    }
    closedir(dir);
    char link[32];
    char target[PATH_MAX];
    for (int i = 0; i < count; i++) {
        snprintf(link, sizeof link, "/proc/self/fd/%d", fds[i]);
        ssize_t length = readlink(link, target, sizeof target - 1);
        if (length > 0) {
            target[length] = 0;
            if (strcmp(target, keep) == 0) continue;
        }
        close(fds[i]);
    }
}
