"""DOCX and PDF files parsed in a process of their own, held to limits on time and memory.

A container's size does not bound the work of parsing it: a few hundred kilobytes of ZIP can
hold gigabytes of XML, a small PDF a page tree that takes minutes to walk. The child process
reads the file from its standard input, gets no environment (no secrets, no database), caps its
own address space and CPU time, and writes the parsed documents as JSON; the parent waits at
most `max_seconds`. The text formats parse in the calling process: their work grows with their
size, which `max_bytes` bounds.

Run as `python -m assistant.knowledge.sandbox` only by `parse_isolated`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path, PurePath
from typing import Any

from assistant.knowledge.parsers import ParsedDocument, ParseLimits, RejectedFile, parse_file, parser_for

logger = logging.getLogger("finassist.knowledge")

ISOLATED = frozenset({".docx", ".pdf"})
_PROJECT = Path(__file__).resolve().parents[2]
_OUT_OF_MEMORY = 3


def parse_isolated(name: str, data: bytes, *, limits: ParseLimits) -> list[ParsedDocument]:
    """`parse_file`, with a container format parsed in a child process under the limits."""
    if PurePath(name).suffix.lower() not in ISOLATED:
        return parse_file(name, data, limits=limits)
    parser_for(name, len(data), limits)
    request = json.dumps({"name": name, "limits": dataclasses.asdict(limits)}).encode() + b"\n" + data
    try:
        done = subprocess.run(
            [sys.executable, "-m", __name__],
            input=request,
            capture_output=True,
            timeout=limits.max_seconds,
            cwd=_PROJECT,
            env={"PYTHONPATH": str(_PROJECT), "LANG": "C.UTF-8"},
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RejectedFile(name, _took_too_long(limits)) from None
    if done.returncode == 0:
        answer = json.loads(done.stdout)
        if "rejected" in answer:
            raise RejectedFile(name, answer["rejected"])
        return [ParsedDocument.from_dict(document) for document in answer["documents"]]
    raise RejectedFile(name, _failure(name, done.returncode, done.stderr, limits))


def _took_too_long(limits: ParseLimits) -> str:
    return f"parsing took longer than {limits.max_seconds:g} s (FINASSIST_PARSE_MAX_SECONDS)"


def _failure(name: str, status: int, stderr: bytes, limits: ParseLimits) -> str:
    if status in (_OUT_OF_MEMORY, -signal.SIGSEGV, -signal.SIGABRT):
        return (
            f"parsing needed more than {limits.max_memory_mb:,} MB of memory (FINASSIST_PARSE_MAX_MEMORY_MB)"
        )
    if status in (-signal.SIGXCPU, -signal.SIGKILL):
        return _took_too_long(limits)
    lines = stderr.decode(errors="replace").strip().splitlines()
    logger.warning("the parser of %s exited with %d:\n%s", name, status, "\n".join(lines[-20:]))
    return f"not a readable file ({lines[-1] if lines else f'the parser exited with {status}'})"


def _limit_self(limits: ParseLimits) -> None:
    memory = limits.max_memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    seconds = math.ceil(limits.max_seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))


def main() -> None:
    header, data = sys.stdin.buffer.read().split(b"\n", 1)
    request = json.loads(header)
    limits = ParseLimits(**request["limits"])
    # The parsers' libraries load before the limits, so that the limits measure the file's work.
    import docx  # noqa: F401
    import pypdf  # noqa: F401

    _limit_self(limits)
    answer: dict[str, Any]
    try:
        answer = {"documents": [d.as_dict() for d in parse_file(request["name"], data, limits=limits)]}
    except RejectedFile as rejected:
        answer = {"rejected": rejected.reason}
    except MemoryError:
        os._exit(_OUT_OF_MEMORY)
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    main()
