"""Run one untrusted computation in a child process with a time and a memory limit.

A model that passed every check can still crash the interpreter (compiled
code reading outside an array) or never return. Run in the process that
serves or scores, either takes the whole process down; run here, it takes
down a child, and the parent turns that into one clear refusal.

The child is a fresh interpreter (``python -m steward.core.pipelines.sandbox``,
not ``fork``: the parent may hold threads and database connections). It gets
the name of a function of Steward's own (``module:function``) and a payload
on stdin, imports the function, then limits itself with ``resource.setrlimit``
(address space: what the interpreter already uses plus ``memory_bytes``; CPU
time: ``cpu_seconds`` more) before calling it, and writes the answer to
stdout. The parent also waits at most ``wall_seconds`` in all and kills the
child after that. One thread for every numerical library in the child.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from steward.core.errors import InvalidInput

ALLOWED_PREFIX = "steward."  # only Steward's own functions run in the child
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
STARTUP_ALLOWANCE_SECONDS = 60.0  # importing scikit-learn on a busy machine, before any limit applies


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 20
    memory_bytes: int = 2 * 1024**3
    wall_seconds: float = 120.0


class SandboxRefused(InvalidInput):
    """The child crashed, ran out of time or memory, or raised: the computation is refused."""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def run_isolated(target: str, payload: bytes, *, what: str, limits: Limits | None = None) -> bytes:
    """``target(payload)`` in a limited child process; its answer, or SandboxRefused in one line."""
    limits = limits or Limits()
    module, _, function = target.partition(":")
    if not module.startswith(ALLOWED_PREFIX) or not function:
        raise ValueError(f"sandbox target {target!r} is not a Steward function")
    environment = {**os.environ, **dict.fromkeys(THREAD_VARIABLES, "1")}
    command = [
        sys.executable,
        "-m",
        "steward.core.pipelines.sandbox",
        target,
        str(limits.cpu_seconds),
        str(limits.memory_bytes),
    ]
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
        start_new_session=True,
    )
    try:
        out, err = child.communicate(payload, timeout=limits.wall_seconds + STARTUP_ALLOWANCE_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise SandboxRefused(
            f"{what}: the first prediction did not finish within {limits.wall_seconds:g} s; refused"
        ) from None
    code = child.returncode
    if code == 0:
        return out
    last = (err.decode("utf-8", "replace").strip().splitlines() or [""])[-1][:300]
    if code < 0:
        name = _signal_name(-code)
        if -code == signal.SIGXCPU or -code == signal.SIGKILL:
            raise SandboxRefused(
                f"{what}: the first prediction ran past its {limits.cpu_seconds} s CPU limit "
                f"(killed by {name}); refused"
            )
        raise SandboxRefused(f"{what}: the first prediction crashed the process ({name}); refused")
    if "MemoryError" in last:
        raise SandboxRefused(
            f"{what}: the first prediction needed more than {limits.memory_bytes // 1024**2} MiB; refused"
        )
    raise SandboxRefused(f"{what}: the first prediction failed ({last or f'exit code {code}'}); refused")


def _address_space_now() -> int:
    try:
        with Path("/proc/self/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _limit_self(cpu_seconds: int, memory_bytes: int) -> None:
    import resource

    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime) + cpu_seconds
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    memory = _address_space_now() + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file behind


def _child(argv: list[str]) -> int:
    target, cpu_seconds, memory_bytes = argv[0], int(argv[1]), int(argv[2])
    module, _, function = target.partition(":")
    if not module.startswith(ALLOWED_PREFIX):
        sys.stderr.write(f"refused target {target}\n")
        return 2
    call: Callable[[bytes], bytes] = getattr(importlib.import_module(module), function)
    payload = sys.stdin.buffer.read()
    _limit_self(cpu_seconds, memory_bytes)
    try:
        answer = call(payload)
    except MemoryError:
        sys.stderr.write("MemoryError\n")
        return 3
    except Exception as error:  # the parent turns this into the refusal's one line
        sys.stderr.write(f"{type(error).__name__}: {str(error)[:200]}\n")
        return 1
    sys.stdout.buffer.write(answer)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
