"""The cycle estimate: QEMU execution logs parsed by pure functions (a recorded-format log whose
cycles are counted by hand), and the real thing on the emulated STM32 — the instructions the
model costs are the instructions the firmware's timer counted."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tinyml.boards import get_board
from tinyml.build.elf import elf_functions
from tinyml.generate.project import generate
from tinyml.measure import cycles as c
from tinyml.measure.estimate import CACHE_SUFFIX, INVOKE, estimate_inference, traced_ranges
from tinyml.platform import build_project, platform_for, session_for

DATA = Path(__file__).parent / "data"
LOG = (DATA / "qemu_exec_loop.log").read_text()


def test_blocks_and_executions_parse() -> None:
    executed = c.parse_trace(LOG)
    assert [e.pc for e in executed] == [0x08000100, 0x08000102, 0x0800010C, 0x08000300, 0x08000304, 0x08000306,
                                        0x08000200]
    assert [i.mnemonic for i in executed[3].block] == ["mov", "ldr", "bx"]  # .w dropped
    assert [i.size for i in executed[3].block] == [4, 2, 2]
    assert executed[3].stop == 0x08000304 and executed[4].stop is None  # rewound at the I/O access


def test_a_shorter_block_at_the_same_address_is_its_own_block() -> None:
    """Under -icount QEMU may translate a block again, shorter, at the same guest address; the host
    address in the Trace line tells which one ran."""
    short = ("----------------\nIN: f\n0x08000102:  c80c       ldm      r0!, {r2, r3}\n\n"
             "Trace 0: 0x7ff790000900 [00800408/08000102/00000010/ff020200] f\n")
    again = "Trace 0: 0x7ff790000200 [00800408/08000102/00000010/ff020200] f\n"
    executed = c.parse_trace(LOG + short + again)
    assert [len(e.block) for e in executed[-2:]] == [1, 5]


def test_hand_counted_loop() -> None:
    """push {r4,r5,lr} 1+3; ldm {r2,r3} 1+2; ldr 2; ldr pipelined 1; subs 1; bne taken 1+2 (=14), then
    ldm 3, ldr 2, ldr 1, subs 1, bne not taken 1 (=8), then pop {r4,r5,pc} 1+3+2 (=6)."""
    est = c.estimate(c.parse_trace(LOG), 0x08000100, frozenset({0x08000300}))
    assert (est.instructions, est.cycles) == (12, 28)
    assert est.by_class["multiple"] == 4 + 3 + 3 + 6 and est.by_class["branch"] == 3 + 1


def test_cycles_are_attributed_to_the_function_each_block_is_in() -> None:
    """The hand-counted loop: push (4) in `entry`, the rest (24) in `body`; an address outside
    every symbol is '?'."""
    functions = c.FunctionMap({"entry": (0x08000100, 2), "body": (0x08000102, 0x30), "empty": (0x08000400, 0)})
    est = c.estimate(c.parse_trace(LOG), 0x08000100, frozenset({0x08000300}), functions)
    assert est.by_function == {"entry": 4, "body": 24}
    assert functions.name(0x08000200) == "?" and functions.name(0x08000400) == "?"


def test_a_block_rewound_at_an_io_access_counts_once() -> None:
    """mov 1 (the rewound block stops before the ldr), ldr 2 (its own block), bx taken 1+2."""
    est = c.estimate(c.parse_trace(LOG), 0x08000300, frozenset({0x08000200}))
    assert (est.instructions, est.cycles) == (3, 6)


def test_a_block_stopped_before_it_started_counts_once() -> None:
    """QEMU logs a block, finds its -icount budget spent (or an exit requested), says so, and runs
    it again: the pop block and the loop block (which returns to its own start) each count once."""
    pop = "Trace 0: 0x7ff790000300 [00800408/0800010c/00000010/ff020200] f\n"
    loop = "Trace 0: 0x7ff790000200 [00800408/08000102/00000010/ff020200] f\n"
    stop = "Stopped execution of TB chain before {} f\n"
    log = LOG.replace(pop, pop + stop.format("0x7ff790000300 [0800010c]") + pop, 1)
    log = log.replace(loop, loop + stop.format("0x7ff790000200 [08000102]") + loop, 1)
    assert log.count(loop) == 2 and log.count(pop) == 2
    assert c.estimate(c.parse_trace(log), 0x08000100, frozenset({0x08000300})).cycles == 28


def test_return_addresses_and_untranslated_blocks() -> None:
    call = ("----------------\nIN: g\n0x08000500:  f7ff fdfe  bl       #0x8000100\n\n"
            "Trace 0: 0x7ff790000a00 [00800408/08000500/00000010/ff020200] g\n")
    assert c.return_addresses(c.parse_trace(LOG + call), 0x08000100) == {0x08000504}
    with pytest.raises(ValueError, match="never translated"):
        c.parse_trace("Trace 0: 0x7ff790000b00 [00800408/08000700/00000010/ff020200] h\n")


@pytest.mark.parametrize(("mnemonic", "operands", "taken", "after", "cycles"), [
    ("smlad", "r0, r1, r2, r0", False, False, 1), ("ldr", "r0, [r1]", False, False, 2),
    ("ldrb", "r0, [r1]", False, True, 1), ("ldrd", "r0, r1, [r2]", False, False, 3),
    ("stmdb", "sp!, {r4, r5, r6, r7, r8, lr}", False, False, 7), ("vpush", "{d8, d9}", False, False, 5),
    ("vldm", "r0, {s0-s7}", False, False, 9), ("bne", "#0x8000102", True, False, 3), ("bne", "#0x80", False, False, 1),
    ("cbz", "r0, #0x80", True, False, 3), ("sdiv", "r0, r1, r2", False, False, 7),
    ("vdiv", "s0, s1, s2", False, False, 14),
    ("vfma", "s0, s1, s2", False, False, 3), ("pop", "{r4, pc}", False, False, 5), ("bics", "r0, r1", False, False, 1),
    ("tbb", "[pc, r0]", False, False, 4),
])
def test_cortex_m4_timings(mnemonic: str, operands: str, taken: bool, after: bool, cycles: int) -> None:
    insn = c.Instruction(0x100, 4, mnemonic, operands)
    assert c.instruction_cycles(insn, taken, after) == cycles


def test_the_idle_loop_is_filtered_out() -> None:
    ranges = traced_ranges({"tm_app_run": (0x1000, 0x20), "tm_port_read": (0x2000, 0x10), "x": (0x3000, 4)})
    assert ranges == "0x0..0xfff,0x1020..0x1fff,0x2010..0xffffffff"


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                    reason="needs gcc-arm-none-eabi and qemu-system-arm (scripts/bootstrap.sh)")
def test_traced_inference_costs_what_the_timer_counted(tmp_path: Path) -> None:
    board = get_board("qemu")
    project = generate(DATA / "tiny_kws_int8.tflite", board, tmp_path / "p", runtime="native")
    elf = build_project(project.path).elf
    x = np.random.default_rng(0).integers(-128, 128, 490).astype(np.int8)
    est = estimate_inference(platform_for(board), elf, x)
    assert est is not None
    with session_for(board, elf) as session:
        session.load(x.tobytes())
        ticks = session.infer(1, 0).ticks
    assert ticks is not None and abs(ticks - est.instructions) <= 64  # the timer reads around the call
    assert 1.1 * est.instructions < est.cycles < 2.5 * est.instructions
    assert est.cycles == sum(est.by_class.values()) == sum(est.by_function.values()) and INVOKE in elf_functions(elf)
    assert "?" not in est.by_function and est.by_function.most_common(1)[0][0].startswith(("tm_", "conv_", "pixel"))
    # kept beside the ELF for this input: the next call reads it back; another input, or a kept file
    # that is not an estimate, traces again
    kept = elf.with_name(elf.name + CACHE_SUFFIX)
    assert kept.is_file() and estimate_inference(platform_for(board), elf, x) == est
    kept.write_text("not json")
    assert estimate_inference(platform_for(board), elf, x) == est
    other = estimate_inference(platform_for(board), elf, np.zeros(490, np.int8))
    assert other is not None and other.instructions != est.instructions  # a different run, not the kept one
    assert estimate_inference(platform_for(board), elf, x) == est  # the kept file is for the last input
