// jpc-bench: runs the operator's benchmarks against a control plane that bench/run
// started, and prints one table. See docs/benchmarks.md.

#include "bench/bench.h"
#include "bench/benchmarks.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace {

using jpc::bench::Options;
using jpc::bench::Row;

const char* const usage_text = R"(Usage: jpc-bench --work-dir DIR --cluster-dir DIR [OPTIONS]

Runs the benchmarks of jibri-pod-controller against the control plane in --cluster-dir
(made by 'hack/local-cluster up') and prints one table. bench/run starts the control plane
and passes the two folders; run that instead of this program.

  --smoke                 tiny sizes and no verdicts on the performance targets; the flags
                          below still override its sizes
  --only LIST             comma-separated benchmarks to run: isolation, sweep, footprint, webhook
  --cycles N              isolation: cycles, each one BUSY webhook and one direct patch (200)
  --spare N               isolation: spec.spare of the pool (2)
  --sweep-pods N          sweep: isolated pods, 10% hung and 10% EXPIRED (1000)
  --sweep-rounds N        sweep: sweeps measured (5)
  --sweep-interval S      sweep: spec.sweepIntervalSeconds, in seconds (15)
  --health-timeout S      sweep: spec.health.timeoutSeconds, in seconds (2)
  --footprint-pods N      footprint: pool pods in the operator's cache (5000)
  --starts N              footprint: operator starts timed (10)
  --idle-seconds S        footprint: length of the idle window, in seconds (60)
  --burst-updates N       footprint: pod annotation patches per burst (1000)
  --bursts N              footprint: bursts measured (3)
  --duration S            webhook: length of each wrk run, in seconds (10)
  --wrk-rounds N          webhook: runs of each case (3)
  --work-dir DIR          folder for logs and temporary files
  --cluster-dir DIR       folder of the control plane
  --help                  print this text
)";

int to_count(const std::string& flag, const std::string& value, int minimum) {
    std::size_t used = 0;
    int number = 0;
    try {
        number = std::stoi(value, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != value.size() || number < minimum) {
        throw std::invalid_argument(fmt::format("{}: invalid value \"{}\"; expected a whole number of at least {}",
                                                flag, value, minimum));
    }
    return number;
}

Options parse_options(int argc, char** argv) {
    std::vector<std::string> arguments(argv + 1, argv + argc);
    Options options;
    if (std::find(arguments.begin(), arguments.end(), "--smoke") != arguments.end()) {
        options.smoke = true;
        options.cycles = 5;
        options.sweep_pods = 50;
        options.sweep_rounds = 2;
        options.sweep_interval_seconds = 5;
        options.footprint_pods = 200;
        options.starts = 2;
        options.idle_seconds = 5;
        options.burst_updates = 100;
        options.bursts = 1;
        options.duration_seconds = 2;
        options.wrk_rounds = 1;
    }

    std::map<std::string, std::function<void(const std::string&)>> setters = {
        {"--only",
         [&](const std::string& value) {
             std::stringstream list(value);
             std::string name;
             while (std::getline(list, name, ',')) {
                 static const std::array<std::string, 4> known = {"isolation", "sweep", "footprint", "webhook"};
                 if (std::find(known.begin(), known.end(), name) == known.end()) {
                     throw std::invalid_argument("--only: unknown benchmark \"" + name +
                                                 "\"; use isolation, sweep, footprint or webhook");
                 }
                 options.only.push_back(name);
             }
         }},
        {"--cycles", [&](const std::string& v) { options.cycles = to_count("--cycles", v, 1); }},
        {"--spare", [&](const std::string& v) { options.spare = to_count("--spare", v, 1); }},
        {"--sweep-pods", [&](const std::string& v) { options.sweep_pods = to_count("--sweep-pods", v, 10); }},
        {"--sweep-rounds", [&](const std::string& v) { options.sweep_rounds = to_count("--sweep-rounds", v, 1); }},
        {"--sweep-interval", [&](const std::string& v) { options.sweep_interval_seconds = to_count("--sweep-interval", v, 5); }},
        {"--health-timeout", [&](const std::string& v) { options.health_timeout_seconds = to_count("--health-timeout", v, 1); }},
        {"--footprint-pods", [&](const std::string& v) { options.footprint_pods = to_count("--footprint-pods", v, 1); }},
        {"--starts", [&](const std::string& v) { options.starts = to_count("--starts", v, 1); }},
        {"--idle-seconds", [&](const std::string& v) { options.idle_seconds = to_count("--idle-seconds", v, 1); }},
        {"--burst-updates", [&](const std::string& v) { options.burst_updates = to_count("--burst-updates", v, 1); }},
        {"--bursts", [&](const std::string& v) { options.bursts = to_count("--bursts", v, 1); }},
        {"--duration", [&](const std::string& v) { options.duration_seconds = to_count("--duration", v, 1); }},
        {"--wrk-rounds", [&](const std::string& v) { options.wrk_rounds = to_count("--wrk-rounds", v, 1); }},
        {"--work-dir", [&](const std::string& v) { options.work_dir = v; }},
        {"--cluster-dir", [&](const std::string& v) { options.cluster_dir = v; }},
    };
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        const auto& flag = arguments[i];
        if (flag == "--smoke") continue;
        auto setter = setters.find(flag);
        if (setter == setters.end()) throw std::invalid_argument("unknown option \"" + flag + "\"; see --help");
        if (i + 1 >= arguments.size()) throw std::invalid_argument("option " + flag + " needs a value");
        setter->second(arguments[++i]);
    }
    if (options.work_dir.empty() || options.cluster_dir.empty()) {
        throw std::invalid_argument("--work-dir and --cluster-dir are required; run bench/run, which sets them");
    }
    if (options.footprint_pods < options.burst_updates) {
        throw std::invalid_argument(fmt::format("--burst-updates {} is larger than --footprint-pods {}; each update "
                                                "patches a different pod",
                                                options.burst_updates, options.footprint_pods));
    }
    return options;
}

// The sweep benchmark opens one listening socket per pod and keeps the hung connections open.
void raise_file_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

void print_table(const std::vector<Row>& rows) {
    std::vector<std::array<std::string, 7>> cells = {
        {"benchmark", "figure", "measured", "reference", "ratio", "target", "verdict"}};
    for (const auto& row : rows) {
        cells.push_back({row.benchmark, row.figure, row.value, row.reference, row.ratio, row.target, row.verdict});
    }
    std::array<std::size_t, 7> widths{};
    for (const auto& line : cells) {
        for (std::size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], line[i].size());
    }
    auto print_line = [&](const std::array<std::string, 7>& line) {
        std::string text = "|";
        for (std::size_t i = 0; i < line.size(); ++i) text += " " + fmt::format("{:<{}}", line[i], widths[i]) + " |";
        std::cout << text << "\n";
    };
    print_line(cells.front());
    std::string rule = "|";
    for (auto width : widths) rule += std::string(width + 2, '-') + "|";
    std::cout << rule << "\n";
    for (std::size_t i = 1; i < cells.size(); ++i) print_line(cells[i]);
    std::cout << std::flush;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    try {
        if (argc > 1 && std::string(argv[1]) == "--help") {
            std::cout << usage_text;
            return 0;
        }
        options = parse_options(argc, argv);
    } catch (const std::invalid_argument& error) {
        std::cerr << "jpc-bench: " << error.what() << "\n";
        return 2;
    }
    spdlog::set_level(spdlog::level::warn);
    raise_file_limit();

    std::vector<std::pair<std::string, std::function<std::vector<Row>(jpc::bench::Environment&)>>> benchmarks = {
        {"isolation", jpc::bench::run_isolation},
        {"sweep", jpc::bench::run_sweep},
        {"webhook", jpc::bench::run_webhook_throughput},
        // Last, so that no other benchmark's pods or operators share its idle window.
        {"footprint", jpc::bench::run_footprint},
    };

    std::vector<Row> rows;
    try {
        jpc::bench::Environment environment(options);
        for (const auto& [name, run] : benchmarks) {
            if (!options.selected(name)) continue;
            jpc::bench::progress("==> " + name);
            try {
                auto result = run(environment);
                rows.insert(rows.end(), result.begin(), result.end());
            } catch (const std::exception& error) {
                jpc::bench::progress(name + " failed: " + error.what());
                std::string message = error.what();
                std::replace(message.begin(), message.end(), '\n', ' ');
                if (message.size() > 200) message = message.substr(0, 200) + "...";
                rows.push_back({name, "benchmark could not finish", message, "", "", "", "FAILED", true});
            }
        }
    } catch (const std::exception& error) {
        std::cerr << "jpc-bench: " << error.what() << "\n";
        return 1;
    }

    print_table(rows);
    bool failed = std::any_of(rows.begin(), rows.end(), [](const Row& row) { return row.failed; });
    return failed ? 1 : 0;
}
