#!/usr/bin/python3
"""Every sslx command and TOML snippet shown in README.md and docs/, run as a user runs them.

Commands (```sh blocks, lines that start with `build/sslx` or `sslx`) run in file order from a
scratch directory that looks like the repository root (experiments/, configs/, data/, examples/
and build/ linked in), so each command finds the runs that the commands before it made, as a
reader following the docs would. `sslx run` commands run at a tiny budget (`budget=tiny`, or
`+budget=tiny` and a short sequence for an experiment without a budget group); a checkpoint named
in a command (`step-00000200`) is the run's latest; `<experiment>/<job>` is a job of
bert_vs_gpt. Skipped, each with its reason: the interactive prompt loop, the Slurm launcher and
commands that are not sslx (scripts, cmake, h5dump, python3), which other tests cover; the main
job of scripts/run-main.sh runs first, at the tiny budget, as README's first command.

Python snippets (```python blocks) run with the system Python against those runs ("log.h5" is
a job's log). TOML snippets (```toml blocks) are checked with `sslx run SNIPPET --dry-run`: every key, type and
rule of the schema; only errors that point at files or runs the snippet assumes the reader has
(an init_from or reward checkpoint, a plugin library) are allowed.

Usage: check_docs.py SOURCE_DIR BUILD_DIR [--self-test]. Prints each command with its result;
exits 1 when any command or snippet fails. --self-test checks the checker on made-up docs with a
wrong command and a wrong snippet (the negative control).
"""

import os
import pathlib
import re
import shlex
import subprocess
import sys
import tempfile

SOURCE = pathlib.Path(sys.argv[1]).resolve()
BUILD = pathlib.Path(sys.argv[2]).resolve()
# In the order a reader meets them: README, getting started, then the rest.
DOCS = [SOURCE / "README.md", SOURCE / "docs" / "getting-started.md"] + sorted(
    p for p in (SOURCE / "docs").glob("*.md") if p.name != "getting-started.md")
SKIP = [
    ("--interactive", "a terminal prompt loop (tests/generate drives it in tmux)"),
    ("--launcher slurm", "needs a Slurm cluster (tests/slurm runs a real one)"),
    ("runs/str", "the run of the Slurm command above"),
]
# Snippet errors about what the reader is assumed to have made or built first (a run trained at
# the tiny budget here has other shapes than the default model a snippet composes).
ASSUMED = re.compile(r"(init_from|checkpoint|plugins?)\b.*(no run|does not exist|not exist|"
                     r"no such|cannot (be )?(open|load|read)|not found|names no|"
                     r"is another backbone)", re.I)
TINY_FOR_ANY = ["+budget=tiny", "trainer.sequence_length=32"]


def blocks(path, language):
    """(first line number, lines) of every ```language block of a Markdown file."""
    lines = path.read_text().splitlines()
    start = None
    for number, line in enumerate(lines, 1):
        if start is None and line.strip() == "```" + language:
            start, body = number + 1, []
        elif start is not None and line.strip() == "```":
            yield start, body
            start = None
        elif start is not None:
            body.append(line)


def commands(path):
    """(line number, argv) of the sslx commands of a file's sh blocks (continuations joined)."""
    for start, body in blocks(path, "sh"):
        pending, first = "", None
        for offset, line in enumerate(body):
            if first is None:
                first = start + offset
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            text, pending, number = pending + line, "", first
            first = None
            if text.split()[:1] == ["printf"]:
                yield number, ["/bin/sh", "-c", text]  # writes a file the next commands read
                continue
            if text.split()[:1] not in (["build/sslx"], ["sslx"]):
                continue  # scripts, cmake, h5dump, python3: other tests run them
            argv = shlex.split(text, comments=True)
            if argv and argv[0] in ("build/sslx", "sslx"):
                yield number, ["build/sslx"] + argv[1:]


def has_budget_group(experiment):
    text = (SOURCE / experiment).read_text()
    defaults = text[text.find("defaults"):text.find("]", text.find("defaults")) + 200]
    return "budget" in defaults


def latest_checkpoint(job):
    pointer = job / "checkpoints" / "latest"
    return pointer.read_text().strip() if pointer.exists() else None


def adapt(argv, scratch):
    """The command at the tiny budget, with paths the earlier commands made."""
    argv = [a.replace("<experiment>/<job>", "bert_vs_gpt/gpt,seed=1") for a in argv]
    argv = [str(scratch / a[5:]) if a.startswith("/tmp/") else a for a in argv]
    argv = [a.replace("~/", str(scratch / "home") + "/") for a in argv]
    if len(argv) > 2 and argv[1] == "run" and "--dry-run" not in argv:
        experiment = argv[2]
        argv = [a for a in argv if not re.match(r"(\+?budget|trainer\.max_steps)=", a)]
        argv += ["budget=tiny"] if has_budget_group(experiment) else TINY_FOR_ANY
    # A checkpoint named in the docs: the latest of that run at the tiny budget.
    for i, a in enumerate(argv):
        match = re.match(r"(.*)/checkpoints/step-\d+$", a)
        if match and (checkpoint := latest_checkpoint(scratch / match.group(1))):
            argv[i] = f"{match.group(1)}/checkpoints/{checkpoint}"
    return argv


def run(argv, cwd, env):
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def check(root, docs):
    """Runs the commands and snippets of `docs` (under `root`); returns the failures, each named
    by file:line."""
    failures = []
    with tempfile.TemporaryDirectory(prefix="sslx-docs-") as directory:
        scratch = pathlib.Path(directory)
        for name in ("experiments", "configs", "data", "examples"):
            (scratch / name).symlink_to(SOURCE / name)
        (scratch / "build").symlink_to(BUILD)
        env = dict(os.environ, SSLX_CACHE_DIR=str(BUILD / "docs-check-cache"))
        # README's first command: scripts/run-main.sh, the main job (its set-up is the build).
        main_job = ["build/sslx", "run", "experiments/bert_vs_gpt.toml", "budget=tiny"]
        result = run(main_job, scratch, env)
        print(f"{'ok' if result.returncode == 0 else 'FAILED'} README.md: scripts/run-main.sh "
              f"as {' '.join(main_job)}")
        if result.returncode != 0:
            failures.append("scripts/run-main.sh (the main job)\n    " +
                            "\n    ".join(result.stderr.splitlines()[-8:]))

        for doc in docs:
            for number, argv in commands(doc):
                where = f"{doc.relative_to(root)}:{number}"
                shown = " ".join(shlex.quote(a) for a in argv)
                reason = next((why for flag, why in SKIP if flag in shown), None)
                if reason:
                    print(f"skip {where}: {shown}  ({reason})")
                    continue
                adapted = adapt(argv, scratch)
                result = run(adapted, scratch, env)
                status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
                print(f"{status} {where}: {' '.join(shlex.quote(a) for a in adapted)}")
                if result.returncode != 0:
                    tail = "\n    ".join((result.stderr or result.stdout).splitlines()[-8:])
                    failures.append(f"{where}: {shown}\n    {tail}")

        # Python snippets read the runs made above (h5py, the system Python's); a bare "log.h5" is
        # a job's log.
        job_log = scratch / "runs" / "bert_vs_gpt" / "gpt,seed=1" / "log.h5"
        if job_log.exists():
            (scratch / "log.h5").symlink_to(job_log)
        for doc in docs:
            for number, body in blocks(doc, "python"):
                where = f"{doc.relative_to(root)}:{number}"
                code = "\n".join(body).replace("<experiment>/<job>", "bert_vs_gpt/gpt,seed=1")
                result = run([sys.executable, "-c", code], scratch, env)
                print(f"{'ok' if result.returncode == 0 else 'FAILED'} {where}: Python snippet")
                if result.returncode != 0:
                    tail = "\n    ".join(result.stderr.splitlines()[-6:])
                    failures.append(f"{where}: Python snippet\n    {tail}")

        for doc in docs:
            for number, body in blocks(doc, "toml"):
                where = f"{doc.relative_to(root)}:{number}"
                folder = scratch / "snippets" / f"{doc.stem}_{number}"
                folder.mkdir(parents=True)
                # Two levels below the scratch root, as examples/<name>/ is below the repository.
                (scratch / "snippets" / "build").mkdir(exist_ok=True)
                snippet = folder / "snippet.toml"
                snippet.write_text("\n".join(body) + "\n")
                result = run(["build/sslx", "run", str(snippet), "--dry-run"], scratch, env)
                # One error per line ("error: ..." or, after "error: N config errors", "  ...").
                errors = [line.strip() for line in result.stderr.splitlines()
                          if (line.startswith("error:") or line.startswith("  "))
                          and not re.match(r"error: \d+ config errors", line)]
                unexpected = [line for line in errors if not ASSUMED.search(line)]
                # Exit 3: config errors; 4: a plugin that cannot be loaded.
                ok = result.returncode == 0 or (result.returncode in (3, 4) and not unexpected)
                print(f"{'ok' if ok else 'FAILED'} {where}: TOML snippet"
                      + ("" if result.returncode == 0 else " (only errors about runs or plugins "
                         "the reader makes first)" if ok else ""))
                if not ok:
                    tail = "\n    ".join(result.stderr.splitlines()[-8:])
                    failures.append(f"{where}: TOML snippet\n    {tail}")
    return failures


def self_test():
    """Negative control: a wrong command and wrong snippets are reported, right ones are not."""
    with tempfile.TemporaryDirectory(prefix="sslx-docs-self-test-") as directory:
        root = pathlib.Path(directory)
        (root / "docs").mkdir()
        (root / "README.md").write_text(
            "```sh\nbuild/sslx list schedule\n"
            "build/sslx run experiments/gpt_fortunes.toml --dry-run model.n_heads=7\n```\n")
        (root / "docs" / "guide.md").write_text(
            '```toml\n[sweep]\n"optim.lr" = "range(1e-4, 4e-4, 1e-4)"\n```\n'
            '```toml\n[schedule]\nname = "cosine"\nlr = 3e-4\ntotal_steps = 1000\n```\n'
            '```python\nimport h5py\nh5py.File("log.h5", "r")["metrics/train/no_such_metric"]\n```\n'
            '```python\nimport h5py\nprint(h5py.File("log.h5", "r")["metrics/train/loss/value"][:])\n'
            '```\n')
        failures = check(root, [root / "README.md", root / "docs" / "guide.md"])
    expected = ["README.md:3: build/sslx run experiments/gpt_fortunes.toml --dry-run "
                "model.n_heads=7", "docs/guide.md:12: Python snippet", "docs/guide.md:2: TOML snippet"]
    found = [failure.splitlines()[0] for failure in failures]
    if found != expected:
        print(f"self-test: expected the failures {expected}, got {found}")
        sys.exit(1)
    print("self-test: the wrong command and snippets were reported, the others passed")


def main():
    if len(sys.argv) > 3 and sys.argv[3] == "--self-test":
        self_test()
        return
    failures = check(SOURCE, DOCS)
    if failures:
        print(f"\n{len(failures)} of the docs' commands and snippets failed:")
        for failure in failures:
            print(" ", failure)
        sys.exit(1)
    print("\nevery command and snippet of README.md and docs/ ran")


if __name__ == "__main__":
    main()
