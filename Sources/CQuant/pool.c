// A small pool of helper threads for the quantised products: llama.cpp-sized products (a decode
// step is ~200 of them per token, each tens of microseconds) are too short for a semaphore
// wake-up per call, so helpers spin on a generation counter for a while before they sleep, and
// the work is claimed in chunks so that a helper the scheduler has not run yet delays nothing.
// One parallel region at a time: a caller that finds the pool busy (another thread's region)
// runs its work alone, which gives the same results. See include/CQuant.h.
#include "CQuant.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PLQ_PAUSE() _mm_pause()
#else
#define PLQ_PAUSE() ((void)0)
#endif

enum { PLQ_MAX_HELPERS = 63, PLQ_SPINS = 200000, PLQ_CHUNKS_PER_THREAD = 4 };

/// One parallel region: fn over `chunks` pieces.
typedef struct {
    plq_work fn;
    void *context;
    int chunks;
} plq_region;

// The work of a region is cut into PLQ_CHUNKS_PER_THREAD chunks per thread, and every thread (the
// caller included) claims chunks from one counter until none is left. A helper the scheduler has
// not run yet (another process holding its core) then costs nothing: the caller does its share,
// and waits only for chunks already claimed. `ticket` packs the region's generation (high bits)
// with the next unclaimed chunk (low 16 bits), so a claim is one compare-and-swap that fails for
// a region that has ended. Regions alternate between two slots: slot g & 1 is rewritten only
// when region g + 2 starts, after every chunk of region g has finished.
static struct {
    pthread_mutex_t busy;          // held by the thread running a region
    pthread_mutex_t lock;          // guards sleeping helpers' wake-up
    pthread_cond_t wake;
    atomic_uint_fast64_t ticket;   // generation << 16 | next chunk
    atomic_int done;               // chunks of the current region finished
    plq_region slots[2];
    uint_fast64_t generation;      // the caller's count of regions (under busy)
    int helpers;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/// Claims and runs chunks of region `generation` until none is left or the region has ended.
static void run_chunks(uint_fast64_t generation) {
    for (;;) {
        uint_fast64_t t = atomic_load_explicit(&pool.ticket, memory_order_acquire);
        if (t >> 16 != generation) return;
        const plq_region *r = &pool.slots[generation & 1];
        const int chunk = (int)(t & 0xFFFF), chunks = r->chunks;
        if (chunk >= chunks) return;
        if (!atomic_compare_exchange_weak_explicit(&pool.ticket, &t, t + 1, memory_order_acq_rel, memory_order_acquire)) continue;
        r->fn(r->context, chunk, chunks);
        atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
    }
}

static void *helper_main(void *arg) {
    (void)arg;
    uint_fast64_t seen = 0;
    for (;;) {
        uint_fast64_t now;
        int spins = 0;
        while ((now = atomic_load_explicit(&pool.ticket, memory_order_acquire) >> 16) == seen) {
            if (++spins < PLQ_SPINS) {
                PLQ_PAUSE();
                if (spins % 1024 == 0) sched_yield();   // let a descheduled thread of this process run
                continue;
            }
            pthread_mutex_lock(&pool.lock);
            while (atomic_load_explicit(&pool.ticket, memory_order_acquire) >> 16 == seen) pthread_cond_wait(&pool.wake, &pool.lock);
            pthread_mutex_unlock(&pool.lock);
            spins = 0;
        }
        seen = now;
        run_chunks(now);
    }
    return NULL;
}

static void pool_start(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int helpers = cores > 1 ? (int)cores - 1 : 0;
    if (helpers > PLQ_MAX_HELPERS) helpers = PLQ_MAX_HELPERS;
    int started = 0;
    for (int i = 0; i < helpers; i++) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, helper_main, NULL) == 0) started++;
        pthread_attr_destroy(&attr);
        if (started != i + 1) break;
    }
    pool.helpers = started;
}

int plq_parallel(plq_work fn, void *context) {
    pthread_once(&pool_once, pool_start);
    if (pool.helpers == 0 || pthread_mutex_trylock(&pool.busy) != 0) {
        fn(context, 0, 1);
        return 1;
    }
    const uint_fast64_t generation = ++pool.generation;
    const int chunks = PLQ_CHUNKS_PER_THREAD * (pool.helpers + 1);
    pool.slots[generation & 1] = (plq_region){fn, context, chunks};
    atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
    pthread_mutex_lock(&pool.lock);
    atomic_store_explicit(&pool.ticket, generation << 16, memory_order_release);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    run_chunks(generation);
    for (int spins = 1; atomic_load_explicit(&pool.done, memory_order_acquire) < chunks; spins++) {
        PLQ_PAUSE();
        if (spins % 256 == 0) sched_yield();   // a helper preempted mid-chunk may need this core
    }
    pthread_mutex_unlock(&pool.busy);
    return pool.helpers + 1;
}
