#define _GNU_SOURCE
#include "CLibc.h"

extern char **environ;

char *const *bm_environ(void) { return environ; }
int bm_errno(void) { return errno; }

int bm_openat(int dirfd, const char *path, int flags, mode_t mode) {
    return openat(dirfd, path, flags, mode);
}

int bm_remove_tree_at(int parent, const char *name) {
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
        if (bm_remove_tree_at(dirfd(dir), entry->d_name) != 0) result = -1;
    }
    int saved = errno;
    closedir(dir);
    if (result != 0) {
        errno = saved;
        return -1;
    }
    return unlinkat(parent, name, AT_REMOVEDIR);
}
