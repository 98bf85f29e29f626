// Only the header matters: the symbol is in libFuzzer, linked by -sanitize=fuzzer.
