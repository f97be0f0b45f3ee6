// jibri-pod-controller: keeps a number of idle Jibri pods ready for each JibriPool.

#include "controller/manager.h"
#include "kube/config.h"
#include "logging/logging.h"
#include "options/options.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
    using namespace jpc;

    options::Options options;
    try {
        options = options::parse_options({argv + 1, argv + argc}, options::process_environment());
    } catch (const options::HelpRequested& help) {
        std::cout << help.what();
        return 0;
    } catch (const options::OptionsError& error) {
        std::cerr << "jibri-pod-controller: " << error.what() << "\n";
        return 2;
    }
    logging::configure(options.log_level, options.log_format);

    // SIGTERM and SIGINT are taken by sigwait below; block them before any thread starts
    // so that every thread inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    std::unique_ptr<controller::Manager> manager;
    try {
        auto config = kube::load_config(options.kubeconfig, options.context);
        spdlog::info("API server {} ({})", config.server, config.source);
        manager = std::make_unique<controller::Manager>(options, config);
        manager->start();
    } catch (const std::exception& error) {
        spdlog::critical("cannot start: {}", error.what());
        return 1;
    }

    int received = 0;
    sigwait(&signals, &received);
    spdlog::info("received {}; shutting down", received == SIGTERM ? "SIGTERM" : "SIGINT");
    manager->stop();
    return 0;
}
