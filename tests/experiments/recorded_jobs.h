// Experiment folders written by hand for the report tests: job.toml, a run log with known loss
// curves and a final evaluation, as `sslx run` leaves them.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace sslx::test {

// The resolved config the recorded jobs ran with: 20 steps of batch 4 x length 8, accumulation 2.
extern const char* const kToyJobConfig;

// One job "<variant>,seed=<seed>" of group `variant`: train loss = val loss + 0.5 at steps 10, 20,
// ...; when completed, the final evaluation `eval` and one generated sample ("hello").
void record_job(const std::filesystem::path& experiment, std::size_t index,
                const std::string& variant, int seed, const std::vector<double>& val_losses,
                const std::map<std::string, double>& eval, bool completed = true,
                const std::string& config_text = kToyJobConfig);

}  // namespace sslx::test
