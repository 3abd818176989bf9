#ifndef BM_CLIBC_SYNCER_H
#define BM_CLIBC_SYNCER_H

// Threads that make written files durable while the extraction keeps writing: it
// hands each finished file over, and the file's fdatasync (its I/O long
// started) overlaps the decoding and writing of the next ones.

typedef struct bm_syncer bm_syncer;

/// NULL when out of memory. Without threads (pthread_create failed), `bm_syncer_submit`
/// syncs in the caller instead: slower, the same guarantee.
bm_syncer *bm_syncer_start(void);

/// Hands `fd` over: it is fdatasync'ed (fsync'ed when `whole`, as directories need) and
/// closed by the syncer. Waits while too many are pending, which bounds the
/// descriptors held open.
void bm_syncer_submit(bm_syncer *syncer, int fd, int whole);

/// Waits for everything handed over, stops the threads and frees the syncer. Returns 0, or
/// the errno of the first sync that failed.
int bm_syncer_finish(bm_syncer *syncer);

#endif
