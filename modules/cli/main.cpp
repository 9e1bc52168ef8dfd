// `sslx`: the command-line entry point. Only this file decides exit codes (docs/cli.md).
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "cli/builtins.h"
#include "cli/commands.h"
#include "util/console.h"
#include "util/error.h"
#include "util/process_tuning.h"
#include "util/strings.h"
#include "util/version.h"

namespace {

// CLI11 answers an unknown command with "A subcommand is required"; name it and suggest instead.
// Returns false (after printing the error) when argv[1] is not a command.
bool check_command_name(const CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return true;
  std::vector<std::string> names;
  for (const auto* command : app.get_subcommands({}))
    names.push_back(command->get_name());
  if (std::find(names.begin(), names.end(), argv[1]) != names.end()) return true;
  std::string message =
      "unknown command '" + std::string(argv[1]) + "'; commands: " + sslx::join(names, ", ");
  const std::string hint = sslx::did_you_mean(argv[1], names);
  if (!hint.empty()) message += "; " + hint;
  sslx::console::error(message);
  return false;
}

int report(const sslx::Error& error) {
  sslx::console::error(error.what());
  if (!error.hint().empty()) sslx::console::info("hint: " + error.hint());
  return static_cast<int>(error.exit_code());
}

}  // namespace

int main(int argc, char** argv) {
  sslx::remember_command_line(argv);  // for `run` and `eval` (util/process_tuning.h)
  CLI::App app{
      "sslx: self-supervised and alignment objectives for language models, compared.\n"
      "Config in -> runs -> HDF5 out -> tables and plots.",
      "sslx"};
  app.set_version_flag("--version", std::string("sslx ") + SSLX_VERSION_STRING);
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok, 1 runtime failure, 2 bad command line, 3 invalid config, "
      "4 plugin error.\nRun `sslx COMMAND --help` for the options of a command.");
  try {
    sslx::cli::register_builtins();
    sslx::cli::add_config_command(app);
    sslx::cli::add_run_command(app);
    sslx::cli::add_list_command(app);
    sslx::cli::add_log_command(app);
    sslx::cli::add_data_command(app);
    sslx::cli::add_status_command(app);
    sslx::cli::add_report_command(app);
    sslx::cli::add_compare_command(app);
    sslx::cli::add_eval_command(app);
    sslx::cli::add_interop_commands(app);
    sslx::cli::add_generate_command(app);
    sslx::cli::add_docs_command(app);
    if (!check_command_name(app, argc, argv)) return static_cast<int>(sslx::ExitCode::kUsage);
    app.parse(argc, argv);
  } catch (const CLI::Success& success) {
    return app.exit(success);
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return static_cast<int>(sslx::ExitCode::kUsage);
  } catch (const sslx::Error& error) {
    return report(error);
  } catch (const c10::Error& error) {
    // LibTorch's checks carry a C++ stack trace: for whoever debugs sslx, not for its users.
    const char* trace = std::getenv("SSLX_BACKTRACE");
    const bool with_trace = trace != nullptr && std::string(trace) != "0";
    sslx::console::error(with_trace ? error.what() : error.what_without_backtrace());
    if (!with_trace) sslx::console::info("(SSLX_BACKTRACE=1 shows where in sslx it was raised)");
    return static_cast<int>(sslx::ExitCode::kRuntimeFailure);
  } catch (const std::exception& error) {
    sslx::console::error(error.what());
    return static_cast<int>(sslx::ExitCode::kRuntimeFailure);
  }
  return static_cast<int>(sslx::ExitCode::kOk);
}
