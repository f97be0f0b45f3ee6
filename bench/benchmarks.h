#pragma once

#include "bench/bench.h"

#include <vector>

namespace jpc::bench {

// Each runs one benchmark in a namespace of its own, with an operator of its own that it
// stops before returning, and returns its rows of the result table. They throw when the
// benchmark cannot run at all.

// 1. BUSY webhook to pod outside the Deployment's selector, and to the replacement pod,
// against one direct label patch by the benchmark.
std::vector<Row> run_isolation(Environment& environment);

// 2. One sweep over isolated pods of which 10% hang and 10% report EXPIRED, against the
// same health requests sent one after another by the benchmark.
std::vector<Row> run_sweep(Environment& environment);

// 3. Memory, idle CPU, start time and CPU per pod event with many pool pods cached,
// against kube-apiserver's numbers and a plain paged list.
std::vector<Row> run_footprint(Environment& environment);

// 4. wrk against the webhook's fast paths, against nginx returning 200 to the same request.
std::vector<Row> run_webhook_throughput(Environment& environment);

}  // namespace jpc::bench
