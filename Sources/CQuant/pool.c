// A small pool of helper threads for the quantised products: llama.cpp-sized products (a decode
// step is ~200 of them per token, each tens of microseconds) are too short for a semaphore
// wake-up per call, so helpers spin on a generation counter for a while before they sleep.
// One parallel region at a time: a caller that finds the pool busy (another thread's region)
// runs its work alone, which gives the same results. See include/CQuant.h.
#include "CQuant.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PLQ_PAUSE() _mm_pause()
#else
#define PLQ_PAUSE() ((void)0)
#endif

enum { PLQ_MAX_HELPERS = 63, PLQ_SPINS = 200000 };

static struct {
    pthread_mutex_t busy;          // held by the thread running a region
    pthread_mutex_t lock;          // guards sleeping helpers' wake-up
    pthread_cond_t wake;
    atomic_uint_fast64_t generation;
    atomic_int remaining;          // helpers still working on the current region
    plq_work fn;
    void *context;
    int helpers;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void *helper_main(void *arg) {
    const int index = (int)(intptr_t)arg;
    uint_fast64_t seen = 0;
    for (;;) {
        uint_fast64_t now;
        int spins = 0;
        while ((now = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen) {
            if (++spins < PLQ_SPINS) { PLQ_PAUSE(); continue; }
            pthread_mutex_lock(&pool.lock);
            while (atomic_load_explicit(&pool.generation, memory_order_acquire) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
            pthread_mutex_unlock(&pool.lock);
            spins = 0;
        }
        seen = now;
        pool.fn(pool.context, index + 1, pool.helpers + 1);
        atomic_fetch_sub_explicit(&pool.remaining, 1, memory_order_acq_rel);
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
        if (pthread_create(&t, &attr, helper_main, (void *)(intptr_t)i) == 0) started++;
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
    pool.fn = fn;
    pool.context = context;
    atomic_store_explicit(&pool.remaining, pool.helpers, memory_order_release);
    pthread_mutex_lock(&pool.lock);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_acq_rel);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    fn(context, 0, pool.helpers + 1);
    while (atomic_load_explicit(&pool.remaining, memory_order_acquire) > 0) PLQ_PAUSE();
    pthread_mutex_unlock(&pool.busy);
    return pool.helpers + 1;
}
