#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

// Embedded Swift seeds hashing with arc4random_buf, which glibc has since 2.36 but musl
// (the dispensers' libc) lacks. Like glibc's, it cannot report failure, so it aborts.
#ifndef __GLIBC__
void arc4random_buf(void *buffer, size_t count) {
    unsigned char *bytes = buffer;
    while (count > 0) {
        ssize_t got = getrandom(bytes, count, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            abort();
        }
        bytes += got;
        count -= (size_t)got;
    }
}
#endif
