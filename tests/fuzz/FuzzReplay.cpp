// A main() for a libFuzzer target built without libFuzzer (any compiler): runs LLVMFuzzerTestOneInput once on
// every file named on the command line or found directly in a directory named there, so ctest replays the seed
// corpora in every build, and a crash file found by the fuzzer can be reproduced in an ordinary debug build.
// Fails when there is nothing to run, so a missing or misnamed corpus cannot pass unnoticed.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::filesystem::path> inputsOf(const std::filesystem::path& path) {
    std::vector<std::filesystem::path> inputs;
    if (!std::filesystem::is_directory(path))
        return {path};
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.is_regular_file())
            inputs.push_back(entry.path());
    }
    std::sort(inputs.begin(), inputs.end());
    return inputs;
}

}  // namespace

int main(int argc, char** argv) {
    size_t runs = 0;
    for (int i = 1; i < argc; ++i) {
        for (const std::filesystem::path& input : inputsOf(argv[i])) {
            std::ifstream file(input, std::ios::binary);
            if (!file) {
                std::fprintf(stderr, "cannot read %s\n", input.c_str());
                return 1;
            }
            std::string bytes{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
            // A copy of exactly the file's size, so a read past the input is a heap overflow under ASan.
            std::vector<uint8_t> data(bytes.begin(), bytes.end());
            std::printf("%s (%zu bytes)\n", input.c_str(), data.size());
            std::fflush(stdout);
            static const uint8_t kNothing = 0;  // libFuzzer never passes a null pointer, even for no bytes
            (void)LLVMFuzzerTestOneInput(data.empty() ? &kNothing : data.data(), data.size());
            ++runs;
        }
    }
    std::printf("replayed %zu inputs\n", runs);
    return runs == 0 ? 1 : 0;
}
