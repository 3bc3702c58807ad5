#!/usr/bin/env python3
"""Runs a generated CI job on this machine, step by step, as a fresh runner would (for tests).

    ci_step_runner.py github|gitlab --pipeline FILE --context FILE --work DIR --cache DIR

The context file (JSON) names the pushed repository and what the CI service would provide:

    {"repository": "file:///srv/app.git", "branch": "main", "commit": "<sha>",
     "secrets": {...}, "vars": {...},          # GitHub repository secrets and variables
     "variables": {...},                       # GitLab CI/CD variables
     "path": "/usr/bin:/bin", "depth": 1,
     "home_seed": {"relative/in/HOME": "/source/folder"}}   # copied into the fresh HOME

What is emulated: the job's `if`/`rules`; `run:` steps (and GitLab's `before_script` + `script`)
in bash with the workflow, job and step environments; `${{ … }}` expressions (contexts github,
env, vars, secrets, runner, steps; `||`, `&&`, `!`, `==`, `!=`, success(), failure(), always());
GITHUB_ENV, GITHUB_PATH and GITHUB_OUTPUT; `actions/checkout` as a shallow clone of the pushed
branch; `actions/cache` and GitLab's `cache:` as folders under --cache, restored before and saved
after a successful job. The runner is fresh: a new HOME under --work, no XDG folders, PATH from
the context. Container images are not emulated: steps run on this machine.

Prints one JSON report on stdout: status (success, failure, not-run), seconds, the steps with
their outcome and seconds, the caches hit, and secrets that appeared in the logs (`leaked`).
Step logs go to stderr with secret values masked.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml


def fail(message):
    print(f"ci_step_runner: {message}", file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------- GitHub expressions

TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*')|(\d+(?:\.\d+)?)|(==|!=|&&|\|\||!|\(|\)|,|\.|\[|\])|([A-Za-z_][A-Za-z0-9_-]*))")


def tokenize(text):
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(f"cannot parse expression at {text[pos:]!r}")
        pos = match.end()
        string, number, op, name = match.groups()
        if string is not None:
            tokens.append(("str", string[1:-1].replace("''", "'")))
        elif number is not None:
            tokens.append(("num", float(number)))
        elif op is not None:
            tokens.append(("op", op))
        else:
            tokens.append(("name", name))
    return tokens


def truthy(value):
    return value not in (None, False, 0, "", 0.0)


def text(value):
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Expression:
    """A recursive-descent evaluator for the subset of GitHub's expression language templates use."""

    def __init__(self, source, contexts, functions):
        self.tokens = tokenize(source)
        self.pos = 0
        self.contexts = contexts
        self.functions = functions

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self, kind=None, value=None):
        token = self.peek()
        if kind and token[0] != kind or value and token[1] != value:
            raise ValueError(f"expected {value or kind}, found {token[1]!r}")
        self.pos += 1
        return token

    def evaluate(self):
        value = self.or_()
        if self.pos != len(self.tokens):
            raise ValueError(f"unexpected {self.peek()[1]!r}")
        return value

    def or_(self):
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self):
        value = self.equality()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.equality()
            value = right if truthy(value) else value
        return value

    def equality(self):
        value = self.unary()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            right = self.unary()
            same = text(value).lower() == text(right).lower()
            value = same if op == "==" else not same
        return value

    def unary(self):
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self):
        kind, value = self.take()
        if kind in ("str", "num"):
            return value
        if (kind, value) == ("op", "("):
            inner = self.or_()
            self.take("op", ")")
            return inner
        if kind != "name":
            raise ValueError(f"unexpected {value!r}")
        if value in ("true", "false"):
            return value == "true"
        if value == "null":
            return None
        if self.peek() == ("op", "("):
            self.take()
            args = []
            while self.peek() != ("op", ")"):
                args.append(self.or_())
                if self.peek() == ("op", ","):
                    self.take()
            self.take("op", ")")
            if value not in self.functions:
                raise ValueError(f"unknown function {value}()")
            return self.functions[value](*args)
        current = self.contexts.get(value)
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                key = self.take("name")[1]
            else:
                key = text(self.or_())
                self.take("op", "]")
            current = current.get(key) if isinstance(current, dict) else None
        return current


def github_value(source, contexts, functions):
    return Expression(source, contexts, functions).evaluate()


def interpolate(value, contexts, functions):
    if not isinstance(value, str):
        return text(value)
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: text(github_value(m.group(1), contexts, functions)), value)


def condition(source, contexts, functions):
    if source is None:
        return functions["success"]()
    if isinstance(source, bool):
        return source
    source = source.strip()
    if source.startswith("${{") and source.endswith("}}"):
        source = source[3:-2]
    value = truthy(github_value(source, contexts, functions))
    # Without a status function, GitHub runs a step only while the job has not failed.
    if not re.search(r"\b(success|failure|always|cancelled)\(", source):
        value = value and functions["success"]()
    return value


# ---------------------------------------------------------------- shared runner parts


class Runner:
    def __init__(self, args, context):
        self.context = context
        self.work = os.path.abspath(args.work)
        self.cache_root = os.path.abspath(args.cache)
        self.home = os.path.join(self.work, "home")
        self.temp = os.path.join(self.work, "temp")
        for folder in (self.home, self.temp, self.cache_root):
            os.makedirs(folder, exist_ok=True)
        # Files a benchmark puts into the fresh HOME (SwiftPM's dependency cache where GitHub is out of reach).
        for relative, source in context.get("home_seed", {}).items():
            shutil.copytree(source, os.path.join(self.home, relative), symlinks=True)
        self.secret_values = [v for v in list(context.get("secrets", {}).values()) + list(context.get("masked", [])) if v]
        self.leaked = set()
        self.steps = []
        self.caches = {}
        self.saves = []

    def base_environment(self):
        # A fresh runner: nothing of this machine's user but the system PATH.
        env = {
            "HOME": self.home, "PATH": self.context.get("path", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
            "LANG": "C.UTF-8", "CI": "true", "TMPDIR": self.temp,
        }
        return env

    def mask(self, output):
        for value in self.secret_values:
            if value in output:
                self.leaked.add(value)
                output = output.replace(value, "***")
        return output

    def shell(self, name, script, env, cwd, bash_flags):
        with tempfile.NamedTemporaryFile("w", suffix=".sh", dir=self.temp, delete=False) as handle:
            handle.write(script)
            path = handle.name
        started = time.monotonic()
        result = subprocess.run(["bash", "--noprofile", "--norc", *bash_flags, path], cwd=cwd, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        seconds = time.monotonic() - started
        output = self.mask(result.stdout.decode("utf-8", "replace"))
        sys.stderr.write(f"::: {name} (exit {result.returncode}, {seconds:.1f}s)\n{output}")
        return result.returncode, output, seconds

    def record(self, name, outcome, seconds, output=""):
        self.steps.append({"name": name, "outcome": outcome, "seconds": round(seconds, 3), "output": output[-4000:]})

    def clone(self, destination, depth):
        repository, branch, commit = self.context["repository"], self.context["branch"], self.context["commit"]
        env = dict(self.base_environment(), GIT_TERMINAL_PROMPT="0")
        subprocess.run(["git", "clone", "-q", "--depth", str(depth), "--branch", branch, repository, destination],
                       check=True, env=env, stdout=sys.stderr)
        head = subprocess.run(["git", "-C", destination, "rev-parse", "HEAD"], check=True, env=env, capture_output=True).stdout.decode().strip()
        if head != commit:
            raise RuntimeError(f"the clone's HEAD is {head}, the push was {commit}")

    def cache_folder(self, key):
        return os.path.join(self.cache_root, re.sub(r"[^A-Za-z0-9._-]", "_", key))

    def restore(self, key, paths):
        folder = self.cache_folder(key)
        hit = os.path.isdir(folder)
        if hit:
            for index, path in enumerate(paths):
                saved = os.path.join(folder, str(index))
                if os.path.exists(saved):
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    shutil.copytree(saved, path, symlinks=True, dirs_exist_ok=True)
        self.caches[key] = hit
        return hit

    def save(self, key, paths):
        folder = self.cache_folder(key)
        partial = folder + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(partial)
        for index, path in enumerate(paths):
            if os.path.isdir(path):
                shutil.copytree(path, os.path.join(partial, str(index)), symlinks=True)
        shutil.rmtree(folder, ignore_errors=True)
        os.rename(partial, folder)


def expand_home(path, home):
    return os.path.join(home, path[2:]) if path.startswith("~/") else (home if path == "~" else path)


def read_env_file(path):
    """NAME=value lines and NAME<<DELIMITER blocks, as GITHUB_ENV and GITHUB_OUTPUT hold them."""
    values = {}
    if not os.path.exists(path):
        return values
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            i += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


# ---------------------------------------------------------------- GitHub Actions


def run_github(runner, pipeline):
    workflow = yaml.safe_load(open(pipeline, encoding="utf-8"))
    jobs = workflow.get("jobs") or {}
    if len(jobs) != 1:
        fail("expected one job in the workflow")
    job_name, job = next(iter(jobs.items()))
    ctx = runner.context
    workspace = os.path.join(runner.work, "workspace", os.path.basename(ctx["repository"].rstrip("/")).removesuffix(".git"))
    branch = ctx["branch"]
    github = {
        "event_name": ctx.get("event", "push"), "ref": f"refs/heads/{branch}", "ref_name": branch, "sha": ctx["commit"],
        "repository": ctx.get("repository_name", "owner/" + os.path.basename(workspace)), "workspace": workspace,
        "event": {"repository": {"default_branch": ctx.get("default_branch", branch)}},
    }
    state = {"failed": False}
    functions = {
        "success": lambda: not state["failed"], "failure": lambda: state["failed"], "always": lambda: True,
        "cancelled": lambda: False,
    }
    steps_context = {}
    env_context = {}
    contexts = {
        "github": github, "vars": ctx.get("vars", {}), "secrets": ctx.get("secrets", {}), "env": env_context,
        "runner": {"os": "Linux", "arch": "X64", "temp": runner.temp}, "steps": steps_context,
    }
    if not condition(job.get("if"), contexts, functions):
        return "not-run"
    for name, value in (workflow.get("env") or {}).items():
        env_context[name] = interpolate(value, contexts, functions)
    for name, value in (job.get("env") or {}).items():
        env_context[name] = interpolate(value, contexts, functions)
    extra_path = []
    files = {name: os.path.join(runner.temp, name.lower()) for name in ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT")}

    for index, step in enumerate(job.get("steps") or []):
        name = step.get("name") or step.get("uses") or f"step {index + 1}"
        if not condition(step.get("if"), contexts, functions):
            runner.record(name, "skipped", 0)
            if step.get("id"):
                steps_context[step["id"]] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            continue
        env = runner.base_environment()
        env.update({"GITHUB_WORKSPACE": workspace, "GITHUB_ACTIONS": "true", "GITHUB_SHA": ctx["commit"], "GITHUB_REF": github["ref"],
                    "GITHUB_REF_NAME": branch, "GITHUB_EVENT_NAME": github["event_name"], "RUNNER_OS": "Linux", "RUNNER_TEMP": runner.temp})
        env.update(env_context)
        for name_, value in (step.get("env") or {}).items():
            env[name_] = interpolate(value, contexts, functions)
        env["PATH"] = ":".join(list(reversed(extra_path)) + [env["PATH"]])
        for path in files.values():
            open(path, "w").close()
        env.update(files)
        outputs = {}
        started = time.monotonic()
        outcome, output = "success", ""
        uses = step.get("uses", "")
        with_ = {k: interpolate(v, contexts, functions) for k, v in (step.get("with") or {}).items()}
        try:
            if uses.startswith("actions/checkout@"):
                shutil.rmtree(workspace, ignore_errors=True)
                runner.clone(workspace, int(with_.get("fetch-depth", ctx.get("depth", 1))) or 1 << 30)
            elif uses.startswith("actions/cache@"):
                paths = [expand_home(p.strip(), runner.home) for p in with_["path"].splitlines() if p.strip()]
                key = with_["key"]
                hit = runner.restore(key, paths)
                outputs["cache-hit"] = "true" if hit else "false"
                if not hit:
                    runner.saves.append((key, paths))
            elif uses:
                raise RuntimeError(f"action {uses} is not emulated")
            else:
                code, output, _ = runner.shell(name, interpolate(step["run"], contexts, functions), env,
                                               step.get("working-directory", workspace), ["-eo", "pipefail"])
                if code != 0:
                    outcome = "failure"
        except (RuntimeError, subprocess.CalledProcessError, KeyError) as error:
            outcome, output = "failure", str(error)
            sys.stderr.write(f"::: {name} failed: {error}\n")
        env_context.update(read_env_file(files["GITHUB_ENV"]))
        extra_path += [line for line in open(files["GITHUB_PATH"]).read().split("\n") if line]
        outputs.update(read_env_file(files["GITHUB_OUTPUT"]))
        if step.get("id"):
            steps_context[step["id"]] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}
        runner.record(name, outcome, time.monotonic() - started, output)
        if outcome == "failure":
            state["failed"] = True
    if state["failed"]:
        return "failure"
    for key, paths in runner.saves:
        runner.save(key, paths)
    return "success"


# ---------------------------------------------------------------- GitLab CI


def expand_variables(value, variables):
    return re.sub(r"\$(?:\{(\w+)\}|(\w+))", lambda m: variables.get(m.group(1) or m.group(2), ""), str(value))


def gitlab_rule(expression, variables):
    def operand(token):
        token = token.strip()
        if token.startswith("$"):
            return variables.get(token[1:])
        if token[:1] in "\"'" and token[-1:] == token[:1]:
            return token[1:-1]
        if token == "null":
            return None
        raise ValueError(f"cannot read rule operand {token!r}")

    def clause(part):
        for op in ("==", "!="):
            if op in part:
                left, right = part.split(op, 1)
                same = operand(left) == operand(right)
                return same if op == "==" else not same
        return bool(operand(part))

    return any(all(clause(p) for p in alternative.split("&&")) for alternative in expression.split("||"))


def run_gitlab(runner, pipeline):
    document = yaml.safe_load(open(pipeline, encoding="utf-8"))
    reserved = {"stages", "variables", "include", "default", "workflow", "image", "services", "cache", "before_script", "after_script"}
    jobs = {k: v for k, v in document.items() if not k.startswith(".") and k not in reserved}
    if len(jobs) != 1:
        fail("expected one job in the pipeline")
    job_name, job = next(iter(jobs.items()))
    ctx = runner.context
    project_dir = os.path.join(runner.work, "builds", os.path.basename(ctx["repository"].rstrip("/")).removesuffix(".git"))
    branch = ctx["branch"]
    variables = {
        "CI": "true", "GITLAB_CI": "true", "CI_PROJECT_DIR": project_dir, "CI_COMMIT_SHA": ctx["commit"],
        "CI_COMMIT_BRANCH": branch, "CI_COMMIT_REF_NAME": branch, "CI_DEFAULT_BRANCH": ctx.get("default_branch", branch),
        "CI_PIPELINE_SOURCE": ctx.get("event", "push"), "CI_JOB_NAME": job_name, "CI_BUILDS_DIR": os.path.dirname(project_dir),
    }
    # Job variables, then the project's CI/CD variables, which take precedence over the file's.
    for name, value in (document.get("variables") or {}).items():
        variables[name] = expand_variables(value, variables)
    for name, value in (job.get("variables") or {}).items():
        variables[name] = expand_variables(value if not isinstance(value, dict) else value.get("value", ""), variables)
    variables.update(ctx.get("variables", {}))

    rules = job.get("rules")
    if rules is not None and not any(gitlab_rule(rule["if"], variables) for rule in rules if "if" in rule):
        return "not-run"

    started = time.monotonic()
    shutil.rmtree(project_dir, ignore_errors=True)
    try:
        runner.clone(project_dir, int(variables.get("GIT_DEPTH", ctx.get("depth", 20))))
    except (RuntimeError, subprocess.CalledProcessError) as error:
        runner.record("checkout", "failure", time.monotonic() - started, str(error))
        return "failure"
    runner.record("checkout", "success", time.monotonic() - started)

    caches = job.get("cache") or []
    if isinstance(caches, dict):
        caches = [caches]
    started = time.monotonic()
    resolved = []
    for cache in caches:
        key = expand_variables(cache.get("key", "default"), variables)
        paths = [os.path.join(project_dir, expand_variables(p, variables)) for p in cache.get("paths", [])]
        runner.restore(key, paths)
        resolved.append((key, paths))
    runner.record("restore cache", "success", time.monotonic() - started)

    env = runner.base_environment()
    env.update(variables)
    lines = []
    for command in list(job.get("before_script") or []) + list(job.get("script") or []):
        lines.append(command)
    code, output, seconds = runner.shell("script", "\n".join(lines) + "\n", env, project_dir, ["-eo", "pipefail"])
    runner.record("script", "success" if code == 0 else "failure", seconds, output)
    if code != 0:
        return "failure"
    started = time.monotonic()
    for key, paths in resolved:
        runner.save(key, paths)
    runner.record("save cache", "success", time.monotonic() - started)
    return "success"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("provider", choices=["github", "gitlab"])
    parser.add_argument("--pipeline", required=True)
    parser.add_argument("--context", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--cache", required=True)
    args = parser.parse_args()
    context = json.load(open(args.context, encoding="utf-8"))
    runner = Runner(args, context)
    started = time.monotonic()
    status = (run_github if args.provider == "github" else run_gitlab)(runner, args.pipeline)
    report = {
        "status": status, "seconds": round(time.monotonic() - started, 3), "steps": runner.steps,
        "caches": runner.caches, "leaked": len(runner.leaked),
    }
    print(json.dumps(report))
    return 0 if status in ("success", "not-run") else 1


if __name__ == "__main__":
    sys.exit(main())
