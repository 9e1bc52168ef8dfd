// Each subcommand adds itself to the CLI11 app; its callback runs the command and throws
// sslx::Error on failure (main turns errors into exit codes).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/config_loading.h"

namespace sslx::cli {

// The arguments every config-reading command takes: FILE, overrides, --config-dir.
void add_config_arguments(
    CLI::App& command, ConfigArguments& arguments,
    const std::string& overrides_help = "overrides: a.b=v, +a.b=v, ++a.b=v, ~a.b, group=option");

void add_config_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_list_command(CLI::App& app);
void add_log_command(CLI::App& app);
void add_docs_command(CLI::App& app);
void add_data_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_compare_command(CLI::App& app);
void add_status_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_interop_commands(CLI::App& app);  // export, import
void add_generate_command(CLI::App& app);

}  // namespace sslx::cli
