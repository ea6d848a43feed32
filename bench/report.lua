-- wrk prints this one JSON line at the end of a run: throughput, latency
-- percentiles (microseconds) and non-2xx/3xx answers, for bench/run.py.
done = function(summary, latency, requests)
  local seconds = summary.duration / 1000000
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
