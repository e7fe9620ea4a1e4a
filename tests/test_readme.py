"""Every ```python block of README.md runs as written and prints what the README shows.

Conventions in README.md (the test enforces them; the README's readers see them):

* A block runs alone in a fresh interpreter, **unless its first line is
  ``# continues the block above``**: then it runs after the previous ```python block, in the same
  interpreter and namespace. A block and the blocks that continue it form a *chain*; each chain
  runs in its own fresh ``python`` process (``TF_CPP_MIN_LOG_LEVEL=3``, ``KERAS_BACKEND=
  tensorflow``, the working directory an empty temporary folder, this checkout on
  ``PYTHONPATH``). Every block of the chain is executed as a module body compiled with the
  README's file name and line numbers, so a traceback points at the README line that failed.
* **What a block prints is what the README shows**, compared exactly:
  - a ```text block right after the ```python block (only blank lines between) is the block's
    whole standard output;
  - otherwise, a ``print(...)`` statement at the block's top level with a trailing comment
    (``print(n)  # 22608 0``) prints the comment's text, one line; the block's output is those
    lines in order;
  - a block that shows neither prints nothing (so ``fit`` needs ``verbose=0``, or the README
    must show the progress bar).
  Normalized: only trailing whitespace at the end of each line and blank lines at the end of the
  output, which Markdown editors strip. Nothing else: every output the README shows (counts,
  ``True``, the weight report, an error message) is deterministic on every machine, so no
  number is masked; a block that shows a timing would need a rule here first. Standard error is
  not compared (TensorFlow writes start-up lines there whatever the log level); it is shown when
  a block fails; a Python warning there (``path:line: UserWarning: ...``) fails the chain, as
  a reader would see it.
* An HTML comment on the line(s) right before a block, ``<!-- test: KIND; ... -->``, says what
  the block needs:
  - ``<!-- test: needs images/shapes.png [more paths] -->``: the files (paths relative to the
    repository root) are copied into the temporary working directory under the same relative
    paths, so the block reads them as a reader in a clone would;
  - ``<!-- test: cluster; script PATH; run by TEST -->``: the block trains on several machines.
    It must be the file ``PATH`` verbatim, and the test module ``TEST`` runs that file as two
    worker processes on 127.0.0.1 (``tests/test_multiworker.py``); it is not run a second time
    here (two TensorFlow workers cost about as much as all other blocks together).

The checks of the conventions themselves (a failing block fails, a wrong output fails, a
continuation sees its chain's names, a needed file is there) run on small synthetic READMEs
without TensorFlow, so they cost milliseconds.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tokenize
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
TIMEOUT_S = 300
CONTINUES = re.compile(r"#\s*continues the block above\b")
_FENCE = re.compile(r"^(```+|~~~+)\s*([\w+-]*)")
_MARKER = re.compile(r"^<!--\s*test:\s*(.*?)\s*-->\s*$")
_PYTHON = {"python", "py", "python3"}
# A Python warning as the warnings module prints it ("path:12: UserWarning: text").
_WARNING = re.compile(r"^\S.*:\d+: \w*Warning: .*$", re.M)


@dataclass
class Block:
    line: int  # 1-based README line of the block's first code line
    code: str
    markers: list[str]  # the text after "test:" of each marker comment right before it
    shown: str | None  # the ```text block right after it, if any

    @property
    def continues(self) -> bool:
        first = self.code.lstrip("\n").split("\n", 1)[0]
        return bool(CONTINUES.match(first))


def parse_blocks(text: str) -> list[Block]:
    """Every ```python block of a Markdown text, with its markers and the output it shows."""
    lines = text.split("\n")
    fences = []  # (open index, close index, language)
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m:
            fence = m.group(1)
            j = i + 1
            while j < len(lines) and not lines[j].startswith(fence):
                j += 1
            if j == len(lines):
                raise ValueError(f"README line {i + 1}: code fence {fence!r} is never closed")
            fences.append((i, j, m.group(2).lower()))
            i = j
        i += 1
    blocks = []
    for k, (start, end, lang) in enumerate(fences):
        if lang not in _PYTHON:
            continue
        markers = []
        p = start - 1
        while p >= 0 and lines[p].lstrip().startswith("<!--"):
            m = _MARKER.match(lines[p].strip())
            if m:
                markers.insert(0, m.group(1))
            p -= 1
        shown = None
        if k + 1 < len(fences) and fences[k + 1][2] == "text":
            nstart, nend, _ = fences[k + 1]
            if all(not line.strip() for line in lines[end + 1 : nstart]):
                shown = "\n".join(lines[nstart + 1 : nend])
        code = "\n".join(lines[start + 1 : end]) + "\n"
        blocks.append(Block(start + 2, code, markers, shown))
    return blocks


def print_comments(code: str) -> list[str] | None:
    """The trailing comments of the top-level ``print(...)`` statements, or None if none has one.

    Raises if only some top-level prints carry a comment (the rest would print unseen text).
    """
    shown, bare = [], 0
    logical: list[tokenize.TokenInfo] = []
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type in (tokenize.NL, tokenize.ENCODING):
            continue
        if tok.type not in (tokenize.NEWLINE, tokenize.ENDMARKER):
            logical.append(tok)
            continue
        significant = [t for t in logical if t.type != tokenize.COMMENT]
        if significant and significant[0].string == "print" and significant[0].start[1] == 0:
            comments = [t for t in logical if t.type == tokenize.COMMENT]
            if comments and comments[-1].start > significant[-1].end:
                shown.append(comments[-1].string[1:].strip())
            else:
                bare += 1
        logical = []
    if shown and bare:
        raise ValueError(f"{bare} top-level print(...) without a '# output' comment:\n{code}")
    return shown or None


def expected_output(block: Block) -> str:
    comments = print_comments(block.code)
    if block.shown is not None and comments:
        raise ValueError(
            f"README line {block.line}: shows its output twice (a ```text block and print comments)"
        )
    if block.shown is not None:
        return _normalize(block.shown)
    return _normalize("\n".join(comments or []))


def _normalize(out: str) -> str:
    return "\n".join(line.rstrip() for line in out.replace("\r\n", "\n").split("\n")).rstrip("\n")


def marker(block: Block) -> tuple[str, list[str]] | None:
    """``(kind, fields)`` of the block's test marker; only one marker per block."""
    if not block.markers:
        return None
    if len(block.markers) > 1:
        raise ValueError(f"README line {block.line}: more than one '<!-- test: -->' marker")
    fields = [f.strip() for f in block.markers[0].split(";")]
    kind, _, rest = fields[0].partition(" ")
    if kind == "needs":
        paths = rest.split()
        if not paths:
            raise ValueError(f"README line {block.line}: 'needs' names no file")
        return kind, paths
    if kind == "cluster":
        opts = dict(f.split(" ", 1) for f in fields[1:])
        if set(opts) != {"script", "run"} or not opts["run"].startswith("by "):
            raise ValueError(
                f"README line {block.line}: write '<!-- test: cluster; script PATH; run by "
                f"TEST -->'. Received: {block.markers[0]!r}"
            )
        return kind, [opts["script"], opts["run"][3:].strip()]
    raise ValueError(
        f"README line {block.line}: unknown marker {block.markers[0]!r}; allowed: "
        "'needs PATH ...', 'cluster; script PATH; run by TEST'"
    )


def chains(blocks: list[Block]) -> list[list[Block]]:
    out: list[list[Block]] = []
    for b in blocks:
        if b.continues:
            if not out:
                raise ValueError(f"README line {b.line}: continues a block, but none is above it")
            if marker(out[-1][-1]) and marker(out[-1][-1])[0] == "cluster":
                raise ValueError(f"README line {b.line}: continues a cluster block")
            out[-1].append(b)
        else:
            out.append([b])
    return out


# The driver: runs each block of a chain in one namespace, a separator line on stdout before
# each, so the output can be split per block. Arguments: the README path, a JSON file of
# [line, code] pairs, the separator.
_DRIVER = """\
import builtins, json, sys
path, blocks, sep = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
del sys.argv[1:]
ns = {"__name__": "__main__", "__builtins__": builtins}
for line, code in blocks:
    sys.stdout.write(sep + "\\n")
    sys.stdout.flush()
    exec(compile("\\n" * (line - 1) + code, path, "exec"), ns)
    sys.stdout.flush()
"""


def run_chain(chain: list[Block], workdir: Path, readme: Path = README, repo: Path = REPO):
    """Run a chain in a fresh interpreter in ``workdir``; returns (returncode, outputs, stderr)."""
    for b in chain:
        m = marker(b)
        if m and m[0] == "needs":
            for rel in m[1]:
                src = repo / rel
                if not src.is_file():
                    raise FileNotFoundError(f"README line {b.line} needs {rel}, not in {repo}")
                (workdir / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, workdir / rel)
    spec = workdir.parent / f"{workdir.name}-blocks.json"
    spec.write_text(json.dumps([[b.line, b.code] for b in chain]), encoding="utf-8")
    sep = f"----- readme block {uuid.uuid4().hex} -----"
    env = dict(os.environ)
    env.pop("TF_CONFIG", None)
    env.update(
        TF_CPP_MIN_LOG_LEVEL="3",
        KERAS_BACKEND="tensorflow",
        PYTHONPATH=os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")])),
    )
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(readme), str(spec), sep],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    parts = proc.stdout.split(sep + "\n")
    return proc.returncode, [_normalize(p) for p in parts[1:]], parts[0] + proc.stderr


def check_chain(chain: list[Block], workdir: Path, readme: Path = README, repo: Path = REPO):
    code, outputs, stderr = run_chain(chain, workdir, readme, repo)
    where = f"{readme.name} line {chain[0].line}"
    assert code == 0, f"{where}: the chain failed (exit {code}); stderr:\n{stderr[-4000:]}"
    assert len(outputs) == len(chain), f"{where}: {len(outputs)} of {len(chain)} blocks ran"
    warned = _WARNING.findall(stderr)
    assert not warned, f"{where}: the chain warns (a reader would see it):\n" + "\n".join(warned)
    for block, got in zip(chain, outputs, strict=True):
        want = expected_output(block)
        assert got == want, (
            f"{readme.name} line {block.line}: prints\n{got}\n--- but the README shows ---\n{want}"
        )


_BLOCKS = parse_blocks(README.read_text(encoding="utf-8"))
_CHAINS = chains(_BLOCKS)
_RUN = [c for c in _CHAINS if not (marker(c[0]) and marker(c[0])[0] == "cluster")]
_CLUSTER = [c[0] for c in _CHAINS if marker(c[0]) and marker(c[0])[0] == "cluster"]


def test_readme_blocks_are_found():
    # The README has more than ten examples; a parser that lost them would pass vacuously.
    assert len(_BLOCKS) >= 10 and len(_RUN) >= 7
    assert sum(len(c) > 1 for c in _CHAINS) >= 1
    assert _CLUSTER, "the multi-worker example is no longer marked '<!-- test: cluster ... -->'"


@pytest.mark.parametrize("chain", _RUN, ids=[f"L{c[0].line}" for c in _RUN])
def test_readme_chain_runs_and_prints_what_it_shows(chain, tmp_path):
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    check_chain(chain, workdir)


@pytest.mark.parametrize("block", _CLUSTER, ids=[f"L{b.line}" for b in _CLUSTER])
def test_readme_cluster_block_is_the_script_its_test_runs(block):
    script, test = marker(block)[1]
    assert block.code == (REPO / script).read_text(encoding="utf-8"), (
        f"README line {block.line} differs from {script}"
    )
    runner = (REPO / test).read_text(encoding="utf-8")
    assert Path(script).name in runner and "127.0.0.1" in runner, test


# --- the conventions, on synthetic READMEs (plain Python, no TensorFlow) ---------------------

_SYNTHETIC = """\
# demo

```bash
echo not python
```

```python
x = 6 * 7
print(x)   # 42
```

Text between.

```python
# continues the block above
print(x + 1)
print("a  ")
```

```text
43
a
```

<!-- test: needs data/hello.txt -->
```python
print(open("data/hello.txt").read().strip())  # hello
```
"""


def _synthetic(tmp_path: Path, text: str):
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    (repo / "data" / "hello.txt").write_text("hello\n")
    readme = repo / "README.md"
    readme.write_text(text)
    return repo, readme, chains(parse_blocks(text))


def _check_all(tmp_path: Path, text: str):
    repo, readme, found = _synthetic(tmp_path, text)
    for i, chain in enumerate(found):
        workdir = tmp_path / f"cwd{i}"
        workdir.mkdir()
        check_chain(chain, workdir, readme, repo)


def test_synthetic_readme_passes(tmp_path):
    found = chains(parse_blocks(_SYNTHETIC))
    assert [[b.line for b in c] for c in found] == [[8, 15], [27]]
    assert marker(found[1][0]) == ("needs", ["data/hello.txt"])
    _check_all(tmp_path, _SYNTHETIC)


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("x = 6 * 7", "x = 6 * 7\nundefined_name", "(?s)line 9.*NameError"),
        ("# 42", "# 41", "line 8: prints\\s+42\\s"),  # a print comment that is wrong
        ("43\na", "43\nb", "line 15: prints"),  # a ```text block that is wrong
        ("# 42", "# 42\nimport sys; sys.stdout.write('more')", "line 8: prints"),  # unshown
        ("print(x)   # 42", "print(x)", "line 8: prints\\s+42\\s"),  # output not shown
        ("# continues the block above\n", "", "line 15"),  # NameError: x is not defined
        ("data/hello.txt -->", "data/nothing.txt -->", "needs data/nothing.txt"),
        ("x = 6 * 7", "import warnings; warnings.warn('odd')\nx = 6 * 7", "UserWarning: odd"),
    ],
)
def test_synthetic_readme_fails_when_a_block_breaks(tmp_path, old, new, message):
    assert old in _SYNTHETIC
    with pytest.raises((AssertionError, FileNotFoundError), match=message):
        _check_all(tmp_path, _SYNTHETIC.replace(old, new, 1))


def test_a_needed_file_is_missing_without_the_marker(tmp_path):
    text = _SYNTHETIC.replace("<!-- test: needs data/hello.txt -->\n", "")
    repo, readme, found = _synthetic(tmp_path, text)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    with pytest.raises(AssertionError, match="FileNotFoundError"):
        check_chain(found[1], workdir, readme, repo)


@pytest.mark.parametrize(
    "text",
    [
        "```python\n# continues the block above\nx = 1\n```\n",  # nothing above
        "<!-- test: network -->\n```python\nx = 1\n```\n",  # unknown marker
        "<!-- test: cluster; script a.py -->\n```python\nx = 1\n```\n",  # no runner named
        "```python\nprint(1)  # 1\nprint(2)\n```\n",  # one print's output not shown
        "```python\nx = 1\n",  # fence never closed
    ],
)
def test_malformed_readme_is_refused(text):
    with pytest.raises(ValueError):
        for chain in chains(parse_blocks(text)):
            for b in chain:
                marker(b)
                expected_output(b)
