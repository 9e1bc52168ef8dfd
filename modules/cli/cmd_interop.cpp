// `sslx export SOURCE --format hf -o DIR` and `sslx import DIR -o FOLDER`: trained models to and
// from Hugging Face model directories (docs/interop.md).
#include <ATen/core/TensorBody.h>

#include <iostream>
#include <string>

#include "cli/commands.h"
#include "interop/hf_export.h"
#include "interop/hf_import.h"
#include "util/error.h"

namespace sslx::cli {
namespace {

struct ExportArguments {
  std::string source;
  std::string format = "hf";
  std::string output;
  std::string dtype = "float32";
};

void run_export(const ExportArguments& a) {
  const at::ScalarType dtype = a.dtype == "bfloat16" ? at::kBFloat16 : at::kFloat;
  const interop::HfExport result = interop::export_run(a.source, a.output, dtype);
  std::cout << "exported " << result.checkpoint.string() << " as " << result.hf_class << " ("
            << a.dtype << ") to " << a.output << '\n';
  for (const auto& note : result.notes)
    std::cout << "note: " << note << '\n';
}

void run_import(const std::string& directory, const std::string& output) {
  const interop::HfDirectory source = interop::read_hf_directory(directory);
  const std::size_t tensors = interop::import_to_folder(source, output);
  std::cout << "imported " << source.hf_class() << " (" << tensors << " tensors) from " << directory
            << " to " << output << '\n';
  if (source.head) {
    std::cout << "a sequence classifier: `sslx export " << output
              << " --format hf -o DIR` writes it back; init_from and generation take language "
                 "models\n";
  } else {
    std::cout << "use it as init_from = \"" << output << "\", or read the directory directly with "
              << "init_from = \"hf:" << directory << "\"\n";
  }
}

}  // namespace

void add_interop_commands(CLI::App& app) {
  auto arguments = std::make_shared<ExportArguments>();
  auto* export_command = app.add_subcommand(
      "export", "Write a trained model as a Hugging Face model directory (docs/interop.md)");
  export_command
      ->add_option("source", arguments->source,
                   "a run folder, its checkpoints/ folder, a checkpoint, an imported folder or "
                   "a classifier the fine-tune evaluator saved (<job>/finetune)")
      ->required();
  export_command->add_option("--format", arguments->format, "output format")
      ->check(CLI::IsMember({"hf"}));
  export_command->add_option("-o,--output", arguments->output, "the directory to write")
      ->required();
  export_command->add_option("--dtype", arguments->dtype, "tensor dtype in model.safetensors")
      ->check(CLI::IsMember({"float32", "bfloat16"}));
  export_command->callback([arguments] { run_export(*arguments); });

  auto directory = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto* import_command = app.add_subcommand(
      "import", "Read a local Hugging Face model directory into an sslx model folder");
  import_command
      ->add_option("directory", *directory, "HF directory (config.json, model.safetensors)")
      ->required();
  import_command->add_option("-o,--output", *output, "the folder to write (config.toml, model.pt)")
      ->required();
  import_command->callback([directory, output] { run_import(*directory, *output); });
}

}  // namespace sslx::cli
