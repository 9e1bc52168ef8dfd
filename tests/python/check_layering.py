"""Checks that the sources include only what their CMake targets depend on.

The dependency graph is read from the CMake files themselves (sslx_add_module(... DEPENDS ...),
target_link_libraries of sslx_architectures, sslx_objectives, sslx_builtins and sslx): a file in
modules/<m>/, architectures/ or objectives/ may include "<d>/..." only when <d> is its own module
or one its target reaches through its dependencies. So the graph in the build and the includes
in the code cannot drift apart; docs/architecture.md describes the same graph in words.

    python3 check_layering.py SOURCE_DIR      # exit 1 listing every include that breaks a layer
    python3 check_layering.py --self-test     # the checker catches a planted upward include
"""
import os
import re
import sys
import tempfile

# Folder of a module's sources -> its CMake target.
FOLDERS = {
    "modules/util": "sslx_util",
    "modules/config": "sslx_config",
    "modules/registry": "sslx_registry",
    "modules/log": "sslx_log",
    "modules/data": "sslx_data",
    "modules/nn": "sslx_nn",
    "modules/train": "sslx_train",
    "modules/rollout": "sslx_rollout",
    "modules/formats": "sslx_formats",
    "modules/interop": "sslx_interop",
    "modules/eval": "sslx_eval",
    "modules/cli": "sslx",
    "architectures": "sslx_architectures",
    "objectives": "sslx_objectives",
}
# What `#include "<prefix>/..."` names.
INCLUDE_PREFIX = {folder.split("/")[-1]: target for folder, target in FOLDERS.items()}
# cli/builtins.cpp is a library of its own (sslx_builtins) inside modules/cli.
SPECIAL_FILES = {"modules/cli/builtins.cpp": "sslx_builtins", "modules/cli/builtins.h": "sslx_builtins"}


def cmake_commands(text, name):
    """The argument lists of every call of `name(...)` in a CMake file, comments removed."""
    text = re.sub(r"#[^\n]*", "", text)
    for match in re.finditer(r"\b" + name + r"\s*\(([^)]*)\)", text):
        yield match.group(1).split()


def dependency_graph(source):
    graph = {}

    def add(target, words):
        graph.setdefault(target, set()).update(w for w in words if w.startswith("sslx_"))

    for cmake in ["modules/CMakeLists.txt", "architectures/CMakeLists.txt",
                  "objectives/CMakeLists.txt"]:
        with open(os.path.join(source, cmake), encoding="utf-8") as file:
            text = file.read()
        for args in cmake_commands(text, "sslx_add_module"):
            name = "sslx_" + args[0]
            # Only DEPENDS and PRIVATE_DEPENDS name libraries: SOURCES are files.
            words, keep = [], False
            for word in args[1:]:
                if word in ("DEPENDS", "PRIVATE_DEPENDS"):
                    keep = True
                elif word == "SOURCES":
                    keep = False
                elif keep:
                    words.append(word)
            add(name, words)
        for args in cmake_commands(text, "target_link_libraries"):
            add(args[0], args[1:])
    return graph


def reachable(graph, target):
    seen, pending = {target}, [target]
    while pending:
        for dependency in graph.get(pending.pop(), ()):
            if dependency not in seen:
                seen.add(dependency)
                pending.append(dependency)
    return seen


def violations(source):
    graph = dependency_graph(source)
    found = []
    for folder, folder_target in FOLDERS.items():
        directory = os.path.join(source, folder)
        for name in sorted(os.listdir(directory)):
            if not name.endswith((".h", ".cpp")):
                continue
            relative = folder + "/" + name
            target = SPECIAL_FILES.get(relative, folder_target)
            allowed = reachable(graph, target)
            with open(os.path.join(directory, name), encoding="utf-8") as file:
                for number, line in enumerate(file, 1):
                    match = re.match(r'\s*#\s*include\s+"(([a-z_]+)/[^"]+)"', line)
                    if not match or match.group(2) not in INCLUDE_PREFIX:
                        continue
                    included = SPECIAL_FILES.get("modules/" + match.group(1),
                                                 INCLUDE_PREFIX[match.group(2)])
                    if included not in allowed:
                        found.append(f"{relative}:{number}: includes {match.group(2)}/ but "
                                     f"{target} does not depend on {included}")
    return found


def self_test():
    """A tree where config includes registry (upward): the checker must report exactly that."""
    with tempfile.TemporaryDirectory() as root:
        for folder in FOLDERS:
            os.makedirs(os.path.join(root, folder))
        files = {
            "modules/CMakeLists.txt": "sslx_add_module(util SOURCES util/a.cpp)\n"
                                      "sslx_add_module(config SOURCES config/a.cpp DEPENDS sslx_util)\n"
                                      "sslx_add_module(registry SOURCES r.cpp DEPENDS sslx_config)\n",
            "architectures/CMakeLists.txt": "",
            "objectives/CMakeLists.txt": "",
            "modules/config/a.cpp": '#include "util/x.h"\n#include "registry/registry.h"\n',
            "modules/registry/r.cpp": '#include "util/x.h"  // through config\n',
        }
        for path, text in files.items():
            with open(os.path.join(root, path), "w", encoding="utf-8") as file:
                file.write(text)
        found = violations(root)
        expected = ["modules/config/a.cpp:2: includes registry/ but sslx_config does not depend "
                    "on sslx_registry"]
        if found != expected:
            print("self-test failed: expected", expected, "got", found)
            return 1
    print("self-test: the planted upward include was reported, and only it")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    found = violations(sys.argv[1])
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} includes break the layering (fix the include or the CMake DEPENDS)")
        return 1
    print("every include follows the CMake dependency graph")
    return 0


if __name__ == "__main__":
    sys.exit(main())
