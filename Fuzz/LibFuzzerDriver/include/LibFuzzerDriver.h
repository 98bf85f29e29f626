#ifndef AOP_LIBFUZZER_DRIVER_H
#define AOP_LIBFUZZER_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt `FuzzerDriver.cpp`): parses the libFuzzer flags in argv and fuzzes
/// `callback`. Linked in by `-sanitize=fuzzer`.
///
/// SwiftPM renames an executable target's `main` to `<Module>_main` and points the linker's `main` at it
/// (`--defsym`), so libFuzzer's own `main` is never linked; each fuzz target's `main.swift` calls this
/// instead.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
