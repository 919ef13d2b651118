"""SCons builder: compile with arm-none-eabi-gcc for Cortex-M4F, link with the project's
linker.ld. There is nothing to upload: tinyml's QEMU target runs the ELF."""

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
cpu_flags = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]
env.Replace(
    AR="arm-none-eabi-gcc-ar", AS="arm-none-eabi-as", CC="arm-none-eabi-gcc", CXX="arm-none-eabi-g++",
    OBJCOPY="arm-none-eabi-objcopy", RANLIB="arm-none-eabi-gcc-ranlib", SIZETOOL="arm-none-eabi-size",
    PROGSUFFIX=".elf",
    SIZEPROGREGEXP=r"^(?:\.text|\.data|\.rodata|\.isr_vector|\.ARM\.exidx)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss)\s+(\d+).*",
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
)
env.Append(
    ASFLAGS=cpu_flags,
    CCFLAGS=[*cpu_flags, "-ffunction-sections", "-fdata-sections", "-Wall"],
    CXXFLAGS=["-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics", "-std=c++17"],
    CFLAGS=["-std=c11"],
    LINKFLAGS=[*cpu_flags, "-Wl,--gc-sections", "--specs=nano.specs", "--specs=nosys.specs", "-nostartfiles"],
    LIBS=["m", "stdc++"],
)
program = env.BuildProgram()
# Nothing to upload: tinyml's QEMU target starts the emulator (tinyml.device.qemu has its one
# command line), e.g. `tinyml bench .` in this project.
upload = env.Alias("upload", program, env.VerboseAction(
    "@echo the emulated board needs no upload: run the firmware with tinyml bench or tinyml validate",
    "Emulated board: nothing to upload"))
AlwaysBuild(upload)
Default(program)
