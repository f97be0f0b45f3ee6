-- wrk script of the webhook benchmark (bench/run): POSTs the JSON body in the environment
-- variable BENCH_WEBHOOK_BODY on every request, counts the response status codes over all
-- threads, and prints one summary line that starts with "BENCH" for jpc-bench to parse.
-- Latencies are in microseconds, as wrk measures them.

wrk.method = "POST"
wrk.body = os.getenv("BENCH_WEBHOOK_BODY") or "{}"
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses")) do
      totals[code] = (totals[code] or 0) + count
    end
  end
  local codes = {}
  for code, count in pairs(totals) do
    table.insert(codes, string.format("%d:%d", code, count))
  end
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d connect_errors=%d read_errors=%d " ..
    "write_errors=%d timeouts=%d statuses=%s\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    table.concat(codes, ",")))
end
