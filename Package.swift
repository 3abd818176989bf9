// swift-tools-version:6.0
import PackageDescription

// The dispenser is what ends up inside every user's binary: Embedded Swift, linked fully
// static (musl + libzstd's decoder), so it needs no Swift runtime and runs on glibc and
// musl hosts alike, and can print a readable preflight error where a dynamic loader would
// fail cryptically. Each mode has its own dispenser so none carries code it never runs;
// all of them compile the shared core and BatamantaFormat themselves (Sources/Dispenser/Core
// is a symlink) because an Embedded module cannot import a regular one.
let embedded: [SwiftSetting] = [
    .enableExperimentalFeature("Embedded"),
    .unsafeFlags(["-wmo", "-Osize"]),
]

// The products are released prebuilt (scripts/package), and two builds of them in different
// checkouts must be the same bytes. The checkout's path reaches the objects through debug
// info and #file (mapped to "."), and the module hash Swift keeps for incremental LLVM
// codegen in .swift_modhash, which strip leaves alone, covers it too (turned off). The
// linker's build ID is hashed over the unstripped file, debug info included: none.
// SwiftPM runs whole-module codegen on as many LLVM threads as the machine has cores
// (-num-threads N, one object per source file); seen here, that let one dispenser differ
// now and then between two builds of the same sources. One thread keeps the per-file
// objects SwiftPM links and takes the threads' interleaving out.
let checkout = Context.packageDirectory
let reproducible: [SwiftSetting] = [
    .unsafeFlags([
        "-file-prefix-map", "\(checkout)=.", "-Xcc", "-ffile-prefix-map=\(checkout)=.",
        "-Xfrontend", "-disable-incremental-llvm-codegen", "-num-threads", "1",
    ]),
]
let reproducibleC: [CSetting] = [.unsafeFlags(["-ffile-prefix-map=\(checkout)=."])]
let noBuildID = ["-Xlinker", "--build-id=none"]

// The dispensers link musl (Debian's musl-dev) rather than glibc: a static glibc is about
// 680 KB however little of it is called (its startup alone pulls in stdio, locales and
// iconv), static musl under 30 KB. Their C code must then see musl's headers too, since
// struct layouts differ: CLibc is compiled with musl's headers alone, while the dispensers'
// Swift keeps the system directories after musl's, for <zstd.h>.
#if arch(x86_64)
let musl = "x86_64-linux-musl"
#else
let musl = "aarch64-linux-musl"
#endif
let muslHeaders = ["-isystem", "/usr/include/\(musl)"]

// libzstd's decoder alone, built from Debian's source by scripts/zstd-decoder (which
// scripts/install-deps and `mix compile` run): Debian's libzstd.a would add the
// compressor and the legacy-format decoders, about 230 KB the dispensers never run.
// Named by path, not -lzstd, so a missing archive fails the link instead of quietly
// taking the system's.
let zstdDecoder = "\(checkout)/.build-cross/zstd/\(musl)/libzstd.a"

func dispenser(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["CLibc", "CZstd", "CSHA256"],
        path: "Sources/\(name)",
        swiftSettings: embedded + reproducible + [.unsafeFlags(muslHeaders.flatMap { ["-Xcc", $0] })],
        // Embedded Swift ignores module maps' link directives; Dictionary needs ceil().
        // -B makes clang take musl's crt1.o/crti.o/crtn.o, and -L, searched before the
        // system directories, makes -lc and -lm musl's.
        // SwiftPM always passes -pie, which a -static link ignores: say nothing about it.
        linkerSettings: [
            .linkedLibrary("m"),
            .unsafeFlags([
                "-Xlinker", zstdDecoder,
                "-Xclang-linker", "-static", "-Xlinker", "--gc-sections",
                "-Xclang-linker", "-Wno-unused-command-line-argument",
                "-Xclang-linker", "-B/usr/lib/\(musl)", "-L/usr/lib/\(musl)",
            ] + noBuildID),
        ]
    )
}

let package = Package(
    name: "batamanta",
    products: [
        .executable(name: "batamanta-native", targets: ["BatamantaNativeTool"]),
        .executable(name: "batamanta-dispenser", targets: ["Dispenser"]),
        .executable(name: "batamanta-dispenser-tui", targets: ["DispenserTUI"]),
        .executable(name: "batamanta-dispenser-daemon", targets: ["DispenserDaemon"]),
    ],
    targets: [
        .systemLibrary(name: "CErlInterface", path: "Sources/CErlInterface"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(
            name: "CCurl", path: "Sources/CCurl", cSettings: reproducibleC,
            linkerSettings: [.linkedLibrary("curl")]
        ),
        .target(name: "CGlibc", path: "Sources/CGlibc", cSettings: reproducibleC),
        .target(
            name: "CLibc", path: "Sources/CLibc",
            cSettings: reproducibleC + [.unsafeFlags(["-nostdlibinc"] + muslHeaders)]
        ),

        // SHA-256 with the CPU's SHA instructions, chosen at run time; no libc calls, so the
        // same object serves the glibc helper and the musl dispensers.
        .target(name: "CSHA256", path: "Sources/CSHA256", cSettings: reproducibleC),
        .target(
            name: "BatamantaFormat", dependencies: ["CZstd", "CSHA256"], path: "Sources/BatamantaFormat",
            swiftSettings: reproducible
        ),
        .target(
            name: "BatamantaNative",
            dependencies: ["BatamantaFormat", "CErlInterface", "CZstd", "CZlib", "CCurl", "CGlibc"],
            path: "Sources/BatamantaNative",
            swiftSettings: reproducible
        ),
        // Only main.swift: the library stays testable, while the static stdlib (which the
        // test runner cannot link) applies to the executable alone.
        .executableTarget(
            name: "BatamantaNativeTool",
            dependencies: ["BatamantaNative"],
            path: "Sources/BatamantaNativeTool",
            swiftSettings: reproducible,
            // Copied into priv/bin/ of a user's project: it must not need the Swift runtime.
            linkerSettings: [.unsafeFlags(["-static-stdlib"] + noBuildID)]
        ),
        dispenser("Dispenser"),
        dispenser("DispenserTUI"),
        dispenser("DispenserDaemon"),

        .testTarget(name: "BatamantaFormatTests", dependencies: ["BatamantaFormat", "CZstd"]),
        // Runs real binaries built around the dispenser SwiftPM builds next to the test
        // bundle (or $BATAMANTA_DISPENSER); needs root for chown and mount namespaces.
        .testTarget(name: "DispenserTests", dependencies: ["BatamantaFormat"]),
        .testTarget(name: "BatamantaNativeTests", dependencies: ["BatamantaNative", "BatamantaFormat"]),
    ]
)
