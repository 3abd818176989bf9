import Glibc
import Testing
@testable import BatamantaFormat

@Suite struct WaitStatusTests {
    @Test func decodesWhatTheKernelReportsForRealProcesses() {
        #expect(WaitStatus(system("exit 0")) == .exited(code: 0))
        #expect(WaitStatus(system("exit 3")) == .exited(code: 3))
        #expect(WaitStatus(system("exit 255")) == .exited(code: 255))
        #expect(WaitStatus(system("kill -KILL $$")) == .signaled(signal: SIGKILL))
    }

    @Test func aCoreDumpFlagDoesNotHideTheSignal() {
        #expect(WaitStatus(0x80 | SIGSEGV) == .signaled(signal: SIGSEGV))
    }

    @Test func stopsAndContinuesAreNotEnds() {
        #expect(WaitStatus(SIGSTOP << 8 | 0x7f) == .running)
        #expect(WaitStatus(SIGTSTP << 8 | 0x7f) == .running)
        #expect(WaitStatus(0xffff) == .running)
    }
}
