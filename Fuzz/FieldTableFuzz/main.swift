import Glibc
import LibFuzzerDriver

// libFuzzer's `main` is replaced by SwiftPM's renamed entry point (see LibFuzzerDriver.h): run its driver.
var arguments = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&arguments, &argv) { data, size in
    guard let data else {
        var empty: UInt8 = 0
        return fuzz(&empty, 0)
    }
    return fuzz(data, size)
})
