#!/usr/bin/env bash
# The installed CMake package, as a plugin author meets it: installs sslx into a temporary prefix,
# builds a copy of examples/objective_rtd outside both trees with nothing but
# -DCMAKE_PREFIX_PATH, and trains it for a few steps with the installed `sslx`, run from a
# directory outside the source tree.
#
# usage: out_of_tree_plugin.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1")
source=$(realpath "$2")
work=$(mktemp -d "${TMPDIR:-/tmp}/sslx-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

fail() {
  echo "FAILED: $*" >&2
  exit 1
}

cmake --install "$build" --prefix "$prefix" --strip >"$work/install.log"
for file in bin/sslx lib/cmake/sslx/sslxConfig.cmake lib/cmake/sslx/sslxPlugin.cmake \
  include/sslx/registry/plugin.h include/sslx/objectives/language_model.h \
  include/sslx/util/version.h share/sslx/configs/model/tiny.toml \
  lib/libsslx_sentencepiece_bridge.so; do
  [[ -e $prefix/$file ]] || fail "the install has no $file"
done

# The installed program runs on the installed libraries, not the build tree's.
while read -r name _ path _; do
  [[ $(realpath "$path") == "$prefix/lib/$name" ]] ||
    fail "the installed sslx loads $name from $path, not from $prefix/lib"
done < <(ldd "$prefix/bin/sslx" | grep 'libsslx_')

# A plugin out of tree: a copy of the example, configured with nothing but the prefix.
cp -r "$source/examples/objective_rtd" "$work/rtd"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$work/rtd" -B "$work/rtd-build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$prefix" "${launcher[@]}" >"$work/configure.log" ||
  { cat "$work/configure.log"; fail "configuring the plugin against the installed package"; }
cmake --build "$work/rtd-build" >"$work/build.log" ||
  { cat "$work/build.log"; fail "building the plugin against the installed package"; }
plugin=$work/rtd-build/libsslx_objective_rtd.so
[[ -f $plugin ]] || fail "no $plugin"

# Run from a folder outside the source tree: the configs come from the installed share/.
mkdir "$work/experiment"
cd "$work/experiment"
sed "s|^plugins = .*|plugins = [\"$plugin\"]|" "$source/examples/objective_rtd/rtd_fortunes.toml" \
  >rtd.toml
listed=$("$prefix/bin/sslx" list objective --plugin "$plugin")
grep -q '^ *rtd' <<<"$listed" || { echo "$listed"; fail "the installed sslx does not list rtd"; }
tree=$("$prefix/bin/sslx" config show rtd.toml --defaults-tree)
grep -q "$prefix/share/sslx/configs/model/tiny.toml" <<<"$tree" ||
  { echo "$tree"; fail "the model config does not come from the installed share/sslx/configs"; }
"$prefix/bin/sslx" run rtd.toml trainer.max_steps=4 trainer.eval_every=2 trainer.log_every=1 \
  trainer.checkpoint_every=4 --out runs >run.log 2>&1 ||
  { tail -30 run.log; fail "training the plugin's objective with the installed sslx"; }
logs=(runs/*/log.h5)
[[ ${#logs[@]} -eq 1 && -f ${logs[0]} ]] || fail "expected one job's log under runs/: ${logs[*]}"
shown=$("$prefix/bin/sslx" log show "${logs[0]}")
grep -q "status: *completed" <<<"$shown" || { echo "$shown"; fail "the run did not complete"; }
echo "ok: installed into $prefix, built the rtd plugin out of tree, trained 4 steps"
