import Foundation
import Testing

/// The x86_64 dispensers' own memcpy and memmove (Sources/CLibc/copy_x86_64.c), linked
/// the way the dispensers link them (static musl, in place of musl's) into a program that
/// checks every length up to 300 at every alignment, and every overlap in both directions,
/// against a byte-by-byte copy.
@Suite struct CopyTests {
    static let checker = #"""
        #include <stdio.h>
        #include <string.h>

        static unsigned char source[512], destination[512], expected[512], buffer[1024];

        static int check(const char *what, size_t count, long shift, const unsigned char *got) {
            if (memcmp(got, expected, sizeof expected) == 0) return 0;
            printf("%s of %zu bytes, shift %ld, differs\n", what, count, shift);
            return 1;
        }

        int main(void) {
            int failures = 0;
            for (size_t i = 0; i < sizeof source; i++) source[i] = (unsigned char)(i * 7 + 3);
            for (size_t count = 0; count <= 300; count++) {
                for (size_t from = 0; from < 16; from++) {
                    for (size_t to = 0; to < 16; to++) {
                        memset(destination, 0xee, sizeof destination);
                        memset(expected, 0xee, sizeof expected);
                        for (size_t i = 0; i < count; i++) expected[to + i] = source[from + i];
                        if (memcpy(destination + to, source + from, count) != destination + to) failures++;
                        failures += check("memcpy", count, (long)to - (long)from, destination);
                    }
                }
                for (long shift = -40; shift <= 40; shift++) {
                    for (size_t i = 0; i < sizeof buffer; i++) buffer[i] = (unsigned char)(i * 13 + 1);
                    unsigned char original[1024];
                    memcpy(original, buffer, sizeof buffer);
                    size_t from = 100, to = (size_t)(100 + shift);
                    memcpy(expected, buffer, sizeof expected);
                    for (size_t i = 0; i < count; i++) expected[to + i] = original[from + i];
                    if (memmove(buffer + to, buffer + from, count) != buffer + to) failures++;
                    failures += check("memmove", count, shift, buffer);
                }
            }
            printf("%d failures\n", failures);
            return failures != 0;
        }
        """#

    @Test(.enabled(if: CopyTests.isX86_64)) func copiesEveryLengthAlignmentAndOverlap() throws {
        let scratch = try Harness.Scratch()
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/CLibc/copy_x86_64.c").standardizedFileURL
        let checker = scratch.path("checker.c")
        try Data(Self.checker.utf8).write(to: checker)
        let musl = "/usr/lib/x86_64-linux-musl"
        // -fno-builtin: every call in the checker must reach the functions under test.
        let build = try Harness.shell(
            "clang --target=x86_64-linux-musl -O2 -fno-builtin -nostdlibinc -isystem /usr/include/x86_64-linux-musl " +
                "-static -B\(musl) -L\(musl) '\(checker.path)' '\(source.path)' -o '\(scratch.path("checker").path)'",
            environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"])
        try #require(build.status == 0, "\(build.stderr)")
        let symbols = try Harness.shell("nm '\(scratch.path("checker").path)'")
        #expect(symbols.stdout.contains(" T memcpy") && symbols.stdout.contains(" T memmove"))
        let run = try Harness.run(scratch.path("checker").path, environment: [:])
        #expect(run.status == 0, "\(run.stdout)")
        #expect(run.stdout.hasSuffix("0 failures\n"))
    }

    static var isX86_64: Bool {
        #if arch(x86_64)
        true
        #else
        false
        #endif
    }
}
