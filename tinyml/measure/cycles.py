"""Estimated Cortex-M4 cycles of one inference, from the instructions QEMU executed.

QEMU counts instructions, not cycles: an LDM of 8 registers is one instruction and 9 cycles, a taken
branch refills the pipeline. Under ``-d in_asm,exec,nochain`` QEMU logs every translated block's
instructions and every executed block in order; the inference is the stretch from the first block
at ``tm_runner_invoke`` to the block at its return address (blocks QEMU rewound at an I/O access
or logged and then not started — "Stopped execution of TB chain", at an expired ``-icount`` budget
or an exit request — count only what ran). Each executed instruction is costed
with the Cortex-M4 instruction timings (ARM Cortex-M4 TRM r0p1, section 3.3.1):

- data processing, multiplies incl. SMLAD/SMLAL/UMULL (single-cycle MAC), saturation, IT: 1;
- LDR/STR (any width), VLDR/VSTR: 2, or 1 right after another single load/store (pipelined);
  LDRD/STRD: 3;
- LDM/STM/PUSH/POP, VLDM/VSTM/VPUSH/VPOP: 1 + N registers (+P when POP/LDM loads PC);
- branches: taken 1 + P, not taken 1 (the next executed block says which); TBB/TBH 2 + P;
- SDIV/UDIV 7 (2-12, data dependent); VDIV/VSQRT 14; VMLA/VMLS/VFMA-family 3; other FPU ops 1.

P, the pipeline refill, is 1-3 cycles (alignment and width of the target): 2 here. Flash wait
states are not modelled (the STM32F4 ART accelerator's caches are assumed to hit): an estimate,
printed as one.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field

REFILL = 2  # P: pipeline refill after a taken branch, 1-3 cycles on a Cortex-M4
DIVIDE = 7  # SDIV/UDIV: 2-12 cycles, data dependent
CONDITIONS = frozenset("eq ne cs hs cc lo mi pl vs vc hi ls ge lt gt le al".split())

_INSN = re.compile(r"^0x(?P<addr>[0-9a-f]+):\s+(?P<enc>[0-9a-f]{4}(?: [0-9a-f]{4})?)\s+(?P<mn>\S+)\s*(?P<ops>.*)$")
_REWOUND = re.compile(r"^cpu_io_recompile: rewound execution of TB to (?P<pc>[0-9a-f]+)")
# the block just logged did not start: its -icount budget ran out, or an exit was requested
_STOPPED = re.compile(r"^Stopped execution of TB chain before (?P<host>0x[0-9a-f]+) \[(?P<pc>[0-9a-f]+)\]")


@dataclass(frozen=True)
class Instruction:
    addr: int
    size: int  # bytes: 2 or 4
    mnemonic: str  # lower case, width suffix (.w/.n) and data type (.f32) kept off
    operands: str


@dataclass
class CycleEstimate:
    instructions: int = 0
    cycles: int = 0
    by_class: Counter[str] = field(default_factory=Counter)  # cycles per instruction class
    by_function: Counter[str] = field(default_factory=Counter)  # cycles per function (when symbols are given)

    @property
    def cycles_per_instruction(self) -> float:
        return self.cycles / self.instructions if self.instructions else 0.0


@dataclass(frozen=True)
class Executed:
    """One executed translation block: its instructions, and where QEMU stopped it when it rewound
    the block at an I/O access (``cpu_io_recompile``: the rest runs again as a block of its own)."""

    pc: int
    block: tuple[Instruction, ...]
    stop: int | None = None


_TB = re.compile(r"^Trace \d+: (?P<host>0x[0-9a-f]+) \[[0-9a-f]+/(?P<pc>[0-9a-f]+)/")


def parse_trace(log: str) -> list[Executed]:
    """The executed blocks of an ``in_asm,exec,nochain`` log, in order.

    Blocks are told apart by QEMU's host address for them (the ``Trace`` line), not by guest
    address: under ``-icount`` a block may be translated again shorter at the same address. A block
    is logged (``IN:``) when translated, just before its first execution; a block logged and then
    stopped before its first instruction is no execution."""
    by_host: dict[str, tuple[Instruction, ...]] = {}
    executed: list[Executed] = []
    pending: list[Instruction] = []
    reading = False
    for line in log.splitlines():
        if line.startswith("IN:"):
            pending, reading = [], True
            continue
        if reading:
            if match := _INSN.match(line):
                enc = match["enc"]
                pending.append(Instruction(int(match["addr"], 16), 2 if len(enc) == 4 else 4,
                                           match["mn"].split(".")[0].lower(), match["ops"].lower()))
                continue
            reading = False
        if match := _TB.match(line):
            pc = int(match["pc"], 16)
            if pending and pending[0].addr == pc:
                by_host[match["host"]] = tuple(pending)
                pending = []
            block = by_host.get(match["host"])
            if block is None or block[0].addr != pc:
                raise ValueError(f"the trace executed a block at 0x{pc:x} it never translated")
            executed.append(Executed(pc, block))
        elif (match := _REWOUND.match(line)) and executed:
            last = executed[-1]
            executed[-1] = Executed(last.pc, last.block, int(match["pc"], 16))
        elif (match := _STOPPED.match(line)) and executed and executed[-1].pc == int(match["pc"], 16):
            executed.pop()
    return executed


def _strip_condition(mnemonic: str, base: str) -> bool:
    return mnemonic == base or (mnemonic.startswith(base) and mnemonic[len(base):] in CONDITIONS)


def _registers(operands: str) -> int:
    """Registers in a register list ``{r4, r5, r6, lr}`` or ``{s16, s17}`` / ``{d8, d9}`` (d counts 2)."""
    inside = operands[operands.find("{") + 1 : operands.rfind("}")] if "{" in operands else ""
    count = 0
    for part in filter(None, (p.strip() for p in inside.split(","))):
        if "-" in part:  # a range r4-r7 / s16-s31
            lo, hi = (int(re.sub(r"\D", "", x) or 0) for x in part.split("-"))
            count += (hi - lo + 1) * (2 if part.startswith("d") else 1)
        else:
            count += 2 if part.startswith("d") else 1
    return count


def instruction_class(mnemonic: str) -> str:
    """The timing class of a mnemonic (condition codes and S suffixes ignored)."""
    m = mnemonic
    if m in ("cbz", "cbnz", "bl", "blx", "bx") or _strip_condition(m, "b") or _strip_condition(m, "bx"):
        return "branch"
    if m in ("tbb", "tbh"):
        return "table-branch"
    if m in ("push", "pop", "vpush", "vpop") or m.startswith(("ldm", "stm", "vldm", "vstm")):
        return "multiple"
    if m.startswith(("ldrd", "strd")):
        return "double"
    if m.startswith(("ldr", "str", "vldr", "vstr")) or m in ("ldrex", "strex"):
        return "load-store"
    if m.startswith(("sdiv", "udiv")):
        return "divide"
    if m.startswith(("vdiv", "vsqrt")):
        return "fp-divide"
    if m.startswith(("vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms", "vfnma", "vfnms")):
        return "fp-mac"
    return "single"


def instruction_cycles(insn: Instruction, taken: bool, after_load_store: bool, kind: str | None = None) -> int:
    """Cycles of one executed instruction (``kind``: its class when the caller has it)."""
    kind = kind or instruction_class(insn.mnemonic)
    if kind == "branch":
        return 1 + REFILL if taken else 1
    if kind == "table-branch":
        return 2 + REFILL
    if kind == "multiple":
        loads_pc = "pc" in insn.operands and insn.mnemonic.startswith(("pop", "ldm"))
        return 1 + _registers(insn.operands) + (REFILL if loads_pc else 0)
    if kind == "double":
        return 3
    if kind == "load-store":
        loads_pc = insn.mnemonic.startswith("ldr") and insn.operands.startswith("pc")
        return (1 if after_load_store else 2) + (REFILL if loads_pc else 0)
    return {"divide": DIVIDE, "fp-divide": 14, "fp-mac": 3}.get(kind, 1)


class FunctionMap:
    """Which function an address is in, from an ELF's function symbols (name -> (address, size))."""

    def __init__(self, functions: dict[str, tuple[int, int]]) -> None:
        spans = sorted((addr, addr + size, name) for name, (addr, size) in functions.items() if size)
        self._starts = [s[0] for s in spans]
        self._spans = spans

    def name(self, addr: int) -> str:
        k = bisect.bisect_right(self._starts, addr) - 1
        if k >= 0 and addr < self._spans[k][1]:
            return self._spans[k][2]
        return "?"


def estimate(executed: list[Executed], start: int, ends: frozenset[int],
             functions: FunctionMap | None = None) -> CycleEstimate:
    """Cost the executed blocks from the first one at ``start`` up to (not including) the next one
    at an address in ``ends`` (and, given ``functions``, attribute the cycles to functions)."""
    try:
        first = next(i for i, e in enumerate(executed) if e.pc == start)
        last = next(i for i in range(first + 1, len(executed)) if executed[i].pc in ends)
    except StopIteration as err:
        raise ValueError(f"the trace has no stretch from 0x{start:x} to a return") from err
    result = CycleEstimate()
    owners: dict[int, list[str]] = {}  # the function of each instruction, per translated block
    after_load_store = False
    for i in range(first, last):
        run = executed[i]
        block = run.block if run.stop is None else tuple(insn for insn in run.block if insn.addr < run.stop)
        nxt = run.stop if run.stop is not None else executed[i + 1].pc
        names = None
        if functions is not None:
            names = owners.get(id(run.block))
            if names is None:
                names = owners[id(run.block)] = [functions.name(insn.addr) for insn in run.block]
        for k, insn in enumerate(block):
            taken = insn is block[-1] and nxt != insn.addr + insn.size
            kind = instruction_class(insn.mnemonic)
            cycles = instruction_cycles(insn, taken, after_load_store, kind)
            after_load_store = kind == "load-store"
            result.instructions += 1
            result.cycles += cycles
            result.by_class[kind] += cycles
            if names is not None:
                result.by_function[names[k]] += cycles
    return result


def return_addresses(executed: list[Executed], callee: int) -> frozenset[int]:
    """Where calls to ``callee`` return: the instructions after its ``bl`` call sites."""
    blocks = {id(e.block): e.block for e in executed}
    sites = frozenset(insn.addr + insn.size for block in blocks.values() for insn in block
                      if insn.mnemonic == "bl" and insn.operands.lstrip("#") == f"0x{callee:x}")
    if not sites:
        raise ValueError(f"the trace never calls 0x{callee:x}")
    return sites
