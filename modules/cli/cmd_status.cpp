// `sslx status DIR`: the jobs of an experiment folder, done / running / failed / interrupted,
// with each job's step and whether its evaluation ran; for jobs submitted to Slurm, the state
// Slurm reports (squeue, else scontrol), including jobs still waiting to start.
#include <iostream>
#include <set>

#include "cli/commands.h"
#include "cli/slurm_launcher.h"
#include "log/experiment_records.h"
#include "util/console.h"
#include "util/fs.h"
#include "util/strings.h"

namespace sslx::cli {
namespace stdfs = std::filesystem;

void add_status_command(CLI::App& app) {
  auto* status =
      app.add_subcommand("status", "Show the jobs of an experiment folder and how far each got");
  auto directory = std::make_shared<std::string>();
  status->add_option("dir", *directory, "experiment folder (runs/<experiment>)")
      ->required()
      ->check(CLI::ExistingDirectory);
  status->callback([directory] {
    const auto jobs = log::collect_jobs(*directory);
    // " (slurm job N STATE)" for a directory that sslx submitted to Slurm, else "".
    const auto slurm_note = [](const stdfs::path& job_directory) -> std::string {
      const auto id_file = job_directory / "slurm_job_id";
      if (!stdfs::is_regular_file(id_file)) return "";
      const std::string id = trim(fs::read_text(id_file));
      const std::string state = slurm_job_state(id);
      return "  (slurm job " + id + " " + (state.empty() ? "no longer known to Slurm" : state) +
             ")";
    };
    std::map<std::string, std::size_t> counts;
    std::size_t width = 4;
    for (const auto& job : jobs)
      width = std::max(width, job.name.size());
    const bool colour = console::stdout_is_tty();
    for (const auto& job : jobs) {
      std::string state = job.status;
      if (job.status == "completed" && !job.evaluated) state = "trained, not evaluated";
      ++counts[job.status == "completed" && job.evaluated ? "done" : job.status];
      std::string progress = "step " + std::to_string(job.last_step);
      if (job.max_steps > 0) progress += "/" + std::to_string(job.max_steps);
      const auto style = job.status == "failed"      ? console::Style::kRed
                         : job.status == "completed" ? console::Style::kGreen
                                                     : console::Style::kYellow;
      std::cout << "  " << job.name << std::string(width - job.name.size() + 2, ' ')
                << console::styled(state, style, colour) << "  " << progress;
      if (job.status == "failed")
        std::cout << "  (log: " << (job.directory / "output.log").string() << ")";
      std::cout << slurm_note(job.directory) << '\n';
    }
    // Submitted to Slurm but not started yet: no job record so far.
    std::set<stdfs::path> listed;
    for (const auto& job : jobs)
      listed.insert(job.directory);
    for (const auto& entry : stdfs::directory_iterator(*directory)) {
      if (!entry.is_directory() || listed.count(entry.path()) > 0 ||
          !stdfs::is_regular_file(entry.path() / "slurm_job_id"))
        continue;
      ++counts["submitted"];
      std::cout << "  " << entry.path().filename().string() << "  submitted"
                << slurm_note(entry.path()) << '\n';
    }
    std::string summary;
    for (const auto& [name, count] : counts)
      summary += (summary.empty() ? "" : ", ") + std::to_string(count) + " " + name;
    std::cout << jobs.size() + counts["submitted"] << " jobs: " << summary << '\n';
  });
}

}  // namespace sslx::cli
