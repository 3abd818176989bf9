#include "CLibc.h"
#include "CLibcSyncer.h"

#include <pthread.h>

#define CAPACITY 128
// Syncs in flight at once. A file system flushes the disk's cache for each sync, and the
// block layer merges flushes that overlap: several threads turn hundreds of flushes into
// a few, where one thread would wait for each in turn.
#define THREADS 4

struct bm_syncer {
    pthread_mutex_t lock;
    // One waiter at a time is woken, for the one change it waits for: a broadcast to
    // every idle thread for each file would wake them all to find one file, and on two
    // cores those wakeups take the time of the decoding and the writing.
    pthread_cond_t work, room;
    pthread_t threads[THREADS];
    int threaded;
    int stopping;
    int first_error;
    unsigned head, count;
    struct { int fd, whole; } pending[CAPACITY];
};

// Its signals are blocked, so a sync is never interrupted and every signal goes to the
// thread that expects it.
static void sync_and_close(struct bm_syncer *syncer, int fd, int whole) {
    int result = whole ? fsync(fd) : fdatasync(fd);
    int error = result == 0 ? 0 : errno;
    close(fd);
    if (error) {
        pthread_mutex_lock(&syncer->lock);
        if (!syncer->first_error) syncer->first_error = error;
        pthread_mutex_unlock(&syncer->lock);
    }
}

static void *run(void *argument) {
    struct bm_syncer *syncer = argument;
    pthread_mutex_lock(&syncer->lock);
    for (;;) {
        while (syncer->count == 0 && !syncer->stopping) pthread_cond_wait(&syncer->work, &syncer->lock);
        if (syncer->count == 0) break;
        int fd = syncer->pending[syncer->head].fd, whole = syncer->pending[syncer->head].whole;
        syncer->head = (syncer->head + 1) % CAPACITY;
        if (syncer->count-- == CAPACITY) pthread_cond_signal(&syncer->room); // the writer may wait
        pthread_mutex_unlock(&syncer->lock);
        sync_and_close(syncer, fd, whole);
        pthread_mutex_lock(&syncer->lock);
    }
    pthread_mutex_unlock(&syncer->lock);
    return NULL;
}

bm_syncer *bm_syncer_start(void) {
    struct bm_syncer *syncer = calloc(1, sizeof *syncer);
    if (!syncer) return NULL;
    pthread_mutex_init(&syncer->lock, NULL);
    pthread_cond_init(&syncer->work, NULL);
    pthread_cond_init(&syncer->room, NULL);
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    while (syncer->threaded < THREADS && pthread_create(&syncer->threads[syncer->threaded], NULL, run, syncer) == 0) {
        syncer->threaded++;
    }
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    return syncer;
}

void bm_syncer_submit(bm_syncer *syncer, int fd, int whole) {
    if (!syncer->threaded) {
        sync_and_close(syncer, fd, whole);
        return;
    }
    pthread_mutex_lock(&syncer->lock);
    while (syncer->count == CAPACITY) pthread_cond_wait(&syncer->room, &syncer->lock);
    unsigned tail = (syncer->head + syncer->count) % CAPACITY;
    syncer->pending[tail].fd = fd;
    syncer->pending[tail].whole = whole;
    syncer->count++;
    pthread_cond_signal(&syncer->work);
    pthread_mutex_unlock(&syncer->lock);
}

int bm_syncer_finish(bm_syncer *syncer) {
    if (syncer->threaded) {
        pthread_mutex_lock(&syncer->lock);
        syncer->stopping = 1;
        pthread_cond_broadcast(&syncer->work);
        pthread_mutex_unlock(&syncer->lock);
        for (int i = 0; i < syncer->threaded; i++) pthread_join(syncer->threads[i], NULL);
    }
    int error = syncer->first_error;
    pthread_mutex_destroy(&syncer->lock);
    pthread_cond_destroy(&syncer->work);
    pthread_cond_destroy(&syncer->room);
    free(syncer);
    return error;
}
