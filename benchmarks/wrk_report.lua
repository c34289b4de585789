-- wrk script for the ambi peer benchmarks (benchmarks/wrk.py runs it).
--
-- The request comes from the environment, so one script serves every endpoint:
--   WRK_METHOD        e.g. POST (default: GET)
--   WRK_BODY          the request body (default: none)
--   WRK_CONTENT_TYPE  sent with a body (default: application/json)
--   WRK_ORIGIN        an Origin header, as a browser's cross-origin request has (default: none)
-- It sets only the shared request template (no request()/response() callbacks), so it
-- adds no per-request Lua work. done() prints one line, "WRK_JSON {...}", for the runner.

local method = os.getenv("WRK_METHOD")
if method and method ~= "" then
  wrk.method = method
end

local body = os.getenv("WRK_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE") or "application/json"
end

local origin = os.getenv("WRK_ORIGIN")
if origin and origin ~= "" then
  wrk.headers["Origin"] = origin
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"duration_us": %d, "requests": %d, "bytes": %d, '
      .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, '
      .. '"non_2xx": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"mean_us": %.1f}\n',
    summary.duration, summary.requests, summary.bytes,
    errors.connect, errors.read, errors.write, errors.timeout,
    errors.status, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean
  ))
end
