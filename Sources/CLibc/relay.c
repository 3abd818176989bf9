#include "CLibc.h"
#include "CLibcRelay.h"

#include <pthread.h>

struct bm_relay {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t thread;
    int threaded;
    int closed, cancelled;
    bool (*step)(void *);
    void *context;
    unsigned slots;
    size_t slot_size;
    unsigned char *memory;
    size_t *lengths;
    // Counts since the start: slot i % slots is filled by the producer's i-th acquire.
    unsigned long acquired, published, consumed, released;
};

bm_relay *bm_relay_create(unsigned slots, size_t slot_size) {
    struct bm_relay *relay = calloc(1, sizeof *relay);
    if (!relay) return NULL;
    relay->memory = malloc(slots * slot_size);
    relay->lengths = calloc(slots, sizeof *relay->lengths);
    if (!relay->memory || !relay->lengths) {
        free(relay->memory);
        free(relay->lengths);
        free(relay);
        return NULL;
    }
    relay->slots = slots;
    relay->slot_size = slot_size;
    pthread_mutex_init(&relay->lock, NULL);
    pthread_cond_init(&relay->changed, NULL);
    return relay;
}

static void *run(void *argument) {
    struct bm_relay *relay = argument;
    while (relay->step(relay->context)) {}
    return NULL;
}

int bm_relay_start(bm_relay *relay, bool (*step)(void *), void *context) {
    relay->step = step;
    relay->context = context;
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    int error = pthread_create(&relay->thread, NULL, run, relay);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    relay->threaded = error == 0;
    return error;
}

void *bm_relay_acquire(bm_relay *relay) {
    pthread_mutex_lock(&relay->lock);
    while (!relay->cancelled && !relay->closed && relay->acquired - relay->released == relay->slots) {
        pthread_cond_wait(&relay->changed, &relay->lock);
    }
    void *slot = NULL;
    if (!relay->cancelled && !relay->closed) {
        slot = relay->memory + (relay->acquired % relay->slots) * relay->slot_size;
        relay->acquired++;
    }
    pthread_mutex_unlock(&relay->lock);
    return slot;
}

void bm_relay_publish(bm_relay *relay, size_t length) {
    pthread_mutex_lock(&relay->lock);
    relay->lengths[relay->published % relay->slots] = length;
    relay->published++;
    pthread_cond_broadcast(&relay->changed);
    pthread_mutex_unlock(&relay->lock);
}

void bm_relay_close(bm_relay *relay) {
    pthread_mutex_lock(&relay->lock);
    relay->closed = 1;
    pthread_cond_broadcast(&relay->changed);
    pthread_mutex_unlock(&relay->lock);
}

const void *bm_relay_next(bm_relay *relay, size_t *length) {
    pthread_mutex_lock(&relay->lock);
    while (!relay->closed && relay->consumed == relay->published) {
        pthread_cond_wait(&relay->changed, &relay->lock);
    }
    const void *slot = NULL;
    if (relay->consumed < relay->published) {
        unsigned index = relay->consumed % relay->slots;
        slot = relay->memory + index * relay->slot_size;
        *length = relay->lengths[index];
        relay->consumed++;
    }
    pthread_mutex_unlock(&relay->lock);
    return slot;
}

void bm_relay_release(bm_relay *relay) {
    pthread_mutex_lock(&relay->lock);
    relay->released++;
    pthread_cond_broadcast(&relay->changed);
    pthread_mutex_unlock(&relay->lock);
}

void bm_relay_finish(bm_relay *relay) {
    pthread_mutex_lock(&relay->lock);
    relay->cancelled = 1;
    pthread_cond_broadcast(&relay->changed);
    pthread_mutex_unlock(&relay->lock);
    if (relay->threaded) pthread_join(relay->thread, NULL);
    pthread_mutex_destroy(&relay->lock);
    pthread_cond_destroy(&relay->changed);
    free(relay->memory);
    free(relay->lengths);
    free(relay);
}
