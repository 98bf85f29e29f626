// swift-tools-version: 6.1
import Foundation
import PackageDescription

// libFuzzer targets for the AOPWire codec. A separate package so the main package's `swift build` never
// sees them: they only link with `-sanitize=fuzzer` (they call libFuzzer's driver). Build and run them with
// `Fuzz/run.sh`; see Docs/Testing.md.

// The parent package's identity is its directory name (a worktree or CI clone may name it anything).
let parentIdentity = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

let package = Package(
    name: "aop-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "LibFuzzerDriver", path: "LibFuzzerDriver"),
        .executableTarget(
            name: "FrameDecoderFuzz",
            dependencies: ["LibFuzzerDriver", .product(name: "AOPWire", package: parentIdentity)],
            path: "FrameDecoderFuzz"
        ),
        .executableTarget(
            name: "CommandAssemblerFuzz",
            dependencies: ["LibFuzzerDriver", .product(name: "AOPWire", package: parentIdentity)],
            path: "CommandAssemblerFuzz"
        ),
        .executableTarget(
            name: "FieldTableFuzz",
            dependencies: ["LibFuzzerDriver", .product(name: "AOPWire", package: parentIdentity)],
            path: "FieldTableFuzz"
        ),
    ],
    swiftLanguageModes: [.v6]
)
