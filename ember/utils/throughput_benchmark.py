"""torch.utils.throughput_benchmark: run a module or a callable over recorded inputs from
several threads and report its latency and throughput, as torch's ThroughputBenchmark."""
import threading
import time
import warnings

__all__ = ['ThroughputBenchmark', 'ExecutionStats', 'format_time']


def format_time(time_us=None, time_ms=None, time_s=None):
    """A duration in the largest unit that keeps it >= 1 (s, ms or us), 3 decimals."""
    if sum(t is not None for t in (time_us, time_ms, time_s)) != 1:
        raise AssertionError('Expected only one of time_us, time_ms, time_s is given.')
    us_in_second, us_in_ms = 1e6, 1e3
    if time_us is None:
        time_us = time_ms * us_in_ms if time_ms is not None else time_s * us_in_second
    if time_us >= us_in_second:
        return f'{time_us / us_in_second:.3f}s'
    if time_us >= us_in_ms:
        return f'{time_us / us_in_ms:.3f}ms'
    return f'{time_us:.3f}us'


class _Stats:
    """What one benchmark run measured."""

    def __init__(self, latency_avg_ms, num_iters):
        self.latency_avg_ms = latency_avg_ms
        self.num_iters = num_iters


class ExecutionStats:
    """The result of ThroughputBenchmark.benchmark."""

    def __init__(self, c_stats, benchmark_config):
        self._c_stats = c_stats
        self.benchmark_config = benchmark_config

    latency_avg_ms = property(lambda self: self._c_stats.latency_avg_ms)
    num_iters = property(lambda self: self._c_stats.num_iters)

    @property
    def iters_per_second(self):
        """Iterations per second over all the calling threads."""
        return self.num_iters / self.total_time_seconds

    @property
    def total_time_seconds(self):
        return self.num_iters * (self.latency_avg_ms / 1000.0) \
            / self.benchmark_config.num_calling_threads

    def __str__(self):
        return '\n'.join([
            'Average latency per example: ' + format_time(time_ms=self.latency_avg_ms),
            f'Total number of iterations: {self.num_iters}',
            f'Total number of iterations per second (across all threads): '
            f'{self.iters_per_second:.2f}',
            'Total time: ' + format_time(time_s=self.total_time_seconds)])


class _Config:
    def __init__(self, num_calling_threads, num_warmup_iters, num_iters):
        self.num_calling_threads = num_calling_threads
        self.num_warmup_iters = num_warmup_iters
        self.num_iters = num_iters
        self.profiler_output_path = ''


class ThroughputBenchmark:
    """Benchmark a module (or any callable) on the inputs given with add_input, from
    num_calling_threads threads, each call taking the next recorded input in turn."""

    def __init__(self, module):
        self._module = module
        self._inputs = []

    def run_once(self, *args, **kwargs):
        """One call of the module with these arguments (its result)."""
        return self._module(*args, **kwargs)

    def add_input(self, *args, **kwargs):
        """Record one input (positional and keyword arguments) for the benchmark."""
        self._inputs.append((args, kwargs))

    def benchmark(self, num_calling_threads=1, num_warmup_iters=10, num_iters=100,
                  profiler_output_path=''):
        """Run num_warmup_iters calls, then num_iters calls spread over the threads; return
        the ExecutionStats."""
        if not self._inputs:
            raise RuntimeError('Please provide benchmark inputs.Did you forget to call add_input()? ')
        # torch's C++ side says so for any Python callable
        warnings.warn('Starting benchmark on an nn.Module. This can be slow due to Python GIL.For '
                      'proper inference simulation you might want to switch to a ScriptModule '
                      'instead', UserWarning, stacklevel=2)
        config = _Config(num_calling_threads, num_warmup_iters, num_iters)
        counter = iter(range(num_iters))
        lock = threading.Lock()
        latencies = []

        def call(i):
            args, kwargs = self._inputs[i % len(self._inputs)]
            self._module(*args, **kwargs)

        for i in range(num_warmup_iters):
            call(i)

        def worker():
            mine = []
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    break
                start = time.perf_counter()
                call(i)
                mine.append(time.perf_counter() - start)
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=worker) for _ in range(num_calling_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        avg_ms = 1000.0 * sum(latencies) / len(latencies) if latencies else 0.0
        return ExecutionStats(_Stats(avg_ms, len(latencies)), config)
