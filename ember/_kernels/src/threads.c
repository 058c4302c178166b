/* Parts of a split run on threads of this library, without Python in between.
 *
 * ember splits a convolution (or a ReLU, a max pool) over the images of a batch, one range per
 * core. Run on Python threads, each part's kernel calls wait for the GIL between them, and a
 * thread that sleeps on a lock or on the GIL takes 25-100 us to wake on a virtual machine: on a
 * 2-core KVM guest a U-Net step's splits ran 1.2x faster than one thread, where the C parts
 * alone would run 2x. Here the caller hands over every part as a list of kernel calls (a
 * "program", recorded by ember._kernels.run_deferred) and runs part 0 itself; the pool's
 * threads run the others. An idle pool thread spins for a while before it sleeps, as OpenMP's
 * do, so that the splits of one training step find it awake.
 *
 * A program is a flat array of 64-bit slots: [task, nargs, arg0, arg1, ..., task, nargs, ...],
 * where task is the address of a kernel's task form (ember_task_<kernel>, beside each kernel:
 * it unpacks the slots into the kernel's arguments).
 */
#define _GNU_SOURCE     /* clock_gettime, pthreads under -std=c11; pthread_setname_np */
#include "kernels.h"

void ember_run_program(const int64_t *prog, int64_t len)
{
    for (int64_t i = 0; i < len; i += 2 + prog[i + 1]) {
        ember_task_fn task = (ember_task_fn)(intptr_t)prog[i];
        task(prog + i + 2);
    }
}

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#define POOL_MAX 63
/* an idle pool thread spins this long before it sleeps: a training step's splits come a few
 * hundred microseconds apart, and a wake from sleep costs 25-100 us on a virtual machine */
#define SPIN_NS 2000000

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static struct {
    pthread_mutex_t mu;             /* with cv: where idle threads sleep */
    pthread_cond_t cv;
    atomic_flag busy;               /* one run at a time; another caller runs its parts alone */
    int threads;                    /* pool threads started */
    atomic_int_fast64_t gen;        /* bumped for each run */
    atomic_int sleepers;
    atomic_int_fast64_t wakes;      /* bumped to wake sleeping threads to spin, without a run */
    atomic_int rest;                /* set: idle threads sleep now instead of spinning */
    atomic_int pending;             /* pool threads not yet done with this run */
    const int64_t *prog;            /* this run's program and part bounds */
    const int64_t *starts;
    int64_t parts;
    int64_t born[POOL_MAX + 1];     /* gen when each thread was started */
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
          .busy = ATOMIC_FLAG_INIT};

static void *pool_thread(void *arg)
{
    const int64_t me = (int64_t)(intptr_t)arg;      /* the part this thread runs: 1, 2, ... */
    int64_t seen = pool.born[me];       /* not gen now: the first run may have begun */
#ifdef __linux__
    pthread_setname_np(pthread_self(), "ember-kernels");   /* as top and /proc name it */
#endif
    for (;;) {
        /* wait for the next run: spin, then sleep */
        int64_t t0 = now_ns(), g;
        for (int spins = 0; (g = atomic_load(&pool.gen)) == seen; spins++) {
            cpu_relax();
            if (atomic_load(&pool.rest) || ((spins & 255) == 255 && now_ns() - t0 > SPIN_NS)) {
                pthread_mutex_lock(&pool.mu);
                atomic_fetch_add(&pool.sleepers, 1);
                const int64_t w = atomic_load(&pool.wakes);
                while ((g = atomic_load(&pool.gen)) == seen && atomic_load(&pool.wakes) == w)
                    pthread_cond_wait(&pool.cv, &pool.mu);
                atomic_fetch_sub(&pool.sleepers, 1);
                pthread_mutex_unlock(&pool.mu);
                if (g != seen)
                    break;
                t0 = now_ns();  /* woken to spin (pool_wake): the next split finds it awake */
            }
        }
        seen = g;
        if (me < pool.parts)
            ember_run_program(pool.prog + pool.starts[me], pool.starts[me + 1] - pool.starts[me]);
        /* every thread reports, a part or not: none can then lag into the next run and read
         * its bounds while the caller writes them */
        atomic_fetch_sub(&pool.pending, 1);
    }
    return NULL;
}

/* A forked child has none of the parent's threads. */
static void pool_after_fork(void)
{
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.cv, NULL);
    atomic_flag_clear(&pool.busy);
    atomic_store(&pool.sleepers, 0);
    pool.threads = 0;
}

/* Start parts [1, parts) of prog on the pool's threads, part p being prog[starts[p]:
 * starts[p + 1]], and return 1 at once; the caller then runs part 0 itself (its own program,
 * which it may still be recording meanwhile) with ember_finish_parts. Returns 0, having
 * started nothing, when another run is going on or a thread could not be started. */
/* Start pool threads until there are `want`; with the busy flag held. 0 when one could not
 * be started. */
static int pool_grow(int64_t want)
{
    static int registered;
    if (!registered) {
        pthread_atfork(NULL, NULL, pool_after_fork);
        registered = 1;
    }
    while (pool.threads < want) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 4 << 20);     /* the conv kernels' stack copies */
        pool.born[pool.threads + 1] = atomic_load(&pool.gen);
        int err = pthread_create(&t, &attr, pool_thread, (void *)(intptr_t)(pool.threads + 1));
        pthread_attr_destroy(&attr);
        if (err)
            return 0;
        pool.threads++;
    }
    return 1;
}

int64_t ember_post_parts(int64_t parts, const int64_t *prog, const int64_t *starts)
{
    if (parts < 2 || parts > POOL_MAX + 1 || atomic_flag_test_and_set(&pool.busy))
        return 0;
    if (!pool_grow(parts - 1)) {
        atomic_flag_clear(&pool.busy);
        return 0;
    }
    pool.prog = prog;
    pool.starts = starts;
    pool.parts = parts;
    atomic_store(&pool.pending, pool.threads);
    atomic_store(&pool.rest, 0);
    atomic_fetch_add(&pool.gen, 1);
    if (atomic_load(&pool.sleepers)) {
        pthread_mutex_lock(&pool.mu);
        pthread_cond_broadcast(&pool.cv);
        pthread_mutex_unlock(&pool.mu);
    }
    return 1;
}

/* After ember_post_parts: run part 0's program here, then wait for the pool's parts. */
void ember_finish_parts(const int64_t *prog0, int64_t len0)
{
    ember_run_program(prog0, len0);
    for (int spins = 0; atomic_load(&pool.pending);) {
        if (spins < 100000) {
            spins++;
            cpu_relax();
        } else {
            sched_yield();      /* a descheduled pool thread: leave it the core */
        }
    }
    atomic_flag_clear(&pool.busy);
}

/* Run parts [0, parts) of prog at once: part 0 on the calling thread, the others on the
 * pool's threads. Returns how many parts ran on the pool's threads (0: all ran here, in
 * order, because another run was going on or a thread could not be started). */
int64_t ember_run_parts(int64_t parts, const int64_t *prog, const int64_t *starts)
{
    if (!ember_post_parts(parts, prog, starts)) {
        ember_run_program(prog, starts[parts]);
        return 0;
    }
    ember_finish_parts(prog + starts[0], starts[1] - starts[0]);
    return parts - 1;
}

/* Idle threads go to sleep at once: the caller is about to split work over Python threads,
 * which need the cores the spinning threads hold. */
void ember_pool_rest(void) { atomic_store(&pool.rest, 1); }

/* Whether `parts - 1` pool threads are spinning, so that a run starts on them within a
 * microsecond; otherwise wake (or start) them to spin, for the splits that follow, and say no:
 * a wake from sleep costs 25-100 us on a virtual machine, more than a small split saves. */
int ember_pool_awake(int64_t parts)
{
    if (pool.threads >= parts - 1 && atomic_load(&pool.sleepers) == 0 &&
        !atomic_load(&pool.rest))
        return 1;
    if (atomic_flag_test_and_set(&pool.busy))
        return 0;
    atomic_store(&pool.rest, 0);
    if (pool_grow(parts - 1) && atomic_load(&pool.sleepers)) {
        pthread_mutex_lock(&pool.mu);
        atomic_fetch_add(&pool.wakes, 1);
        pthread_cond_broadcast(&pool.cv);
        pthread_mutex_unlock(&pool.mu);
    }
    atomic_flag_clear(&pool.busy);
    return 0;
}

#else
void ember_pool_rest(void) {}

int ember_pool_awake(int64_t parts)
{
    (void)parts;
    return 0;
}

int64_t ember_post_parts(int64_t parts, const int64_t *prog, const int64_t *starts)
{
    (void)parts, (void)prog, (void)starts;
    return 0;
}

void ember_finish_parts(const int64_t *prog0, int64_t len0) { ember_run_program(prog0, len0); }

int64_t ember_run_parts(int64_t parts, const int64_t *prog, const int64_t *starts)
{
    ember_run_program(prog, starts[parts]);
    return 0;
}
#endif

/* An elementwise kernel's task over [0, n) in `parts` pieces at once (the pool's threads
 * running all but the first) when the pieces are long enough and the pool's threads are
 * spinning, else in one piece here: the result is the same either way. The task's slots are
 * n and then `nptr` addresses, each advanced by lo * esz[i] bytes for the piece starting at
 * element lo. Returns the pieces run on the pool's threads. */
int64_t ember_split_run(ember_task_fn task, int64_t n, int64_t nptr, void *const *ptrs,
                        const int64_t *esz, int64_t parts)
{
    int64_t prog[SPLIT_MAX * (3 + SPLIT_MAX_PTRS)], starts[SPLIT_MAX + 1];
    if (parts > n / SPLIT_GRAIN)
        parts = n / SPLIT_GRAIN;
    if (parts > SPLIT_MAX)
        parts = SPLIT_MAX;
    if (nptr > SPLIT_MAX_PTRS)
        return -1;      /* nothing ran: more addresses than a piece's slots hold */
    if (parts < 2 || !ember_pool_awake(parts)) {
        prog[0] = n;
        for (int64_t i = 0; i < nptr; i++)
            prog[1 + i] = (int64_t)(intptr_t)ptrs[i];
        task(prog);
        return 0;
    }
    int64_t k = 0;
    for (int64_t p = 0; p < parts; p++) {
        /* pieces start on a multiple of 16 elements: whole vectors, whole cache lines */
        const int64_t lo = p ? (n * p / parts) & ~(int64_t)15 : 0;
        const int64_t hi = p + 1 < parts ? (n * (p + 1) / parts) & ~(int64_t)15 : n;
        starts[p] = k;
        prog[k++] = (int64_t)(intptr_t)task;
        prog[k++] = 1 + nptr;
        prog[k++] = hi - lo;
        for (int64_t i = 0; i < nptr; i++)
            prog[k++] = (int64_t)(intptr_t)ptrs[i] + lo * esz[i];
    }
    starts[parts] = k;
    return ember_run_parts(parts, prog, starts);
}
