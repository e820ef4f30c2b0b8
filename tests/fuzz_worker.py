"""Run one call in a forked child with a wall-clock timeout and a memory cap.

The fuzz tier (``tests/test_fuzz.py``) calls every public function through :func:`call`, so that a
hang or a memory blow-up is a reported failure rather than a stuck test session.  The child
inherits the parent's imports (fork), runs ``fn(*args, **kwargs)``, applies ``check`` to the result
in the child (results need not be picklable) and sends back a small plain-data outcome.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import traceback
from dataclasses import dataclass

MEMORY_CAP = 2 * 1024 ** 3  # bytes of address space per call: a blow-up fails fast, not the machine


@dataclass(frozen=True)
class Outcome:
    kind: str  # "ok" | "raised" | "bad result" | "timeout" | "crash"
    exc_type: str = ""
    message: str = ""
    detail: str = ""
    seconds: float = 0.0

    def describe(self) -> str:
        if self.kind == "raised":
            return f"raised {self.exc_type}: {self.message}\n{self.detail}"
        if self.kind == "timeout":
            return f"no answer within {self.seconds:g} s (a hang)"
        return f"{self.kind}: {self.message}\n{self.detail}"


def _child(conn, fn, args, kwargs, check):
    import time
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    except (ValueError, OSError):
        pass
    import warnings
    # The library's own report of an estimate beyond float64 (mean/stderr inf, log fields finite) is
    # a documented answer, not a failure; every other warning stays an error, as under pytest.
    warnings.filterwarnings("ignore", message="mc_cot_error: err_k exceeds float64", category=RuntimeWarning)
    start = time.perf_counter()
    try:
        result = fn(*args, **kwargs)
    except BaseException as exc:  # every kind of failure is reported to the parent
        out = Outcome("raised", type(exc).__name__, str(exc)[:2000],
                      "".join(traceback.format_exception(exc))[-3000:], time.perf_counter() - start)
    else:
        try:
            problem = check(result) if check is not None else None
        except BaseException as exc:
            problem = f"the check itself raised {type(exc).__name__}: {exc}"
        try:
            shown = repr(result)[:1000]
        except BaseException as exc:  # e.g. a Fraction beyond the int-to-str digit limit
            shown = f"<repr raised {type(exc).__name__}: {exc}>"
        out = Outcome("ok" if problem is None else "bad result", message=problem or "",
                      detail=shown, seconds=time.perf_counter() - start)
    try:
        conn.send(out)
    finally:
        conn.close()
        os._exit(0)


def call(fn, args=(), kwargs=None, *, check=None, timeout: float = 20.0) -> Outcome:
    """``fn(*args, **kwargs)`` in a forked child; ``check(result)`` returns None or a problem."""
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, tuple(args), dict(kwargs or {}), check))
    proc.start()
    send.close()
    try:
        if recv.poll(timeout):
            try:
                return recv.recv()
            except EOFError:
                pass
        else:
            return Outcome("timeout", seconds=timeout)
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        recv.close()
    return Outcome("crash", message=f"the child died with exit code {proc.exitcode}")
