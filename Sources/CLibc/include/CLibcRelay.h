#ifndef BM_CLIBC_RELAY_H
#define BM_CLIBC_RELAY_H

#include <stdbool.h>
#include <stddef.h>

// A producer thread filling buffers that another thread consumes in the same order: the
// dispenser reads and hashes the payload a few buffers ahead of its decoding, and decodes
// it a few buffers ahead of the tar reader and the writes, so the three share both cores
// instead of running one after the other. No Swift object crosses over; only the buffers
// do, and each belongs to one side at a time.

typedef struct bm_relay bm_relay;

/// NULL when out of memory. `slots` buffers of `slot_size` bytes each.
bm_relay *bm_relay_create(unsigned slots, size_t slot_size);

/// Runs `step(context)` on a new thread, which has every signal blocked, until it returns
/// false. Returns 0, or the errno of pthread_create: the consumer then calls `step` on its
/// own thread before each next.
int bm_relay_start(bm_relay *relay, bool (*step)(void *), void *context);

/// Producer: the next buffer to fill, once the consumer has released it; NULL when the
/// consumer has cancelled or the producer has closed (a producer stepped on the consumer's
/// thread may be stepped again after it is done).
void *bm_relay_acquire(bm_relay *relay);

/// Producer: the buffer from the last acquire holds `length` bytes for the consumer.
void bm_relay_publish(bm_relay *relay, size_t length);

/// Producer: nothing more is coming.
void bm_relay_close(bm_relay *relay);

/// Consumer: the next published buffer, in order, and its length; NULL once the producer
/// has closed and everything published was consumed.
const void *bm_relay_next(bm_relay *relay, size_t *length);

/// Consumer: the buffer from the last next may be filled again.
void bm_relay_release(bm_relay *relay);

/// Consumer: stops the producer at its next acquire, waits for its thread, and frees the
/// relay.
void bm_relay_finish(bm_relay *relay);

#endif
