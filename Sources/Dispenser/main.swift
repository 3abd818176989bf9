import CLibc

// The cli dispenser: exec the application in place, so signals, the TTY, stdin/stdout
// and the exit status pass straight through. It returns only when it cannot.
let failure: Failure
switch SelfImage.open().flatMap(prepareLaunch) {
case .success(let launch): failure = launch.exec()
case .failure(let prepared): failure = prepared
}
failure.report()
exit(failure.code.rawValue)
