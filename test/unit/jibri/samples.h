#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace jpc::test {

// Reads test/data/jibri/<name>. Throws when the file is missing, so a test fails loudly.
inline std::string read_jibri_sample(const std::string& name) {
    const std::string path = std::string(JPC_TEST_DATA_DIR) + "/jibri/" + name;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot open test data file " + path);
    }
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

}  // namespace jpc::test
