import CLibc

/// Finds or extracts this binary's payload and execs the application. Returns only when
/// it cannot; the failure is then printed as one line and becomes the exit status.
func dispense() -> Failure {
    let image: SelfImage
    switch SelfImage.open() {
    case .success(let opened): image = opened
    case .failure(let failure): return failure
    }
    guard let app = image.metadata.first(bytes("app")), isSafeName(app),
        let version = image.metadata.first(bytes("version")), isSafeName(version),
        image.metadata.first(bytes("exec"))?.isEmpty == false
    else {
        return Failure(.corruptPayload, path: image.executablePath, "corrupt metadata: missing or unusable app, version or exec")
    }
    let name = joined(app, [UInt8(ascii: "-")], version, [UInt8(ascii: "-")], Array(hexDigits(image.trailer.contentHash).prefix(16)))

    let cache: CacheDirectory
    switch CacheDirectory.locate() {
    case .success(let located): cache = located
    case .failure(let failure): return failure
    }
    let root = joined(cache.path, [slash], name)
    let launch = Launch(metadata: image.metadata, root: root, executable: image.executablePath, cache: cache)

    switch ExtractionLock.openShared(name, in: cache) {
    case .success(.some): return launch.exec()
    case .success(nil): break
    case .failure(let failure): return failure
    }

    if let failure = Preflight.check(image.metadata.first(bytes("libc")), executable: image.executablePath) {
        return failure
    }
    if case .failure(let failure) = Extraction.extract(image, named: name, app: app, in: cache) {
        return failure
    }
    Cleanup.removeUnused(app: app, keeping: name, in: cache)
    return launch.exec()
}

/// `app` and `version` become one path component of the extraction's name.
func isSafeName(_ name: [UInt8]) -> Bool {
    !name.isEmpty && name[0] != UInt8(ascii: ".") && !name.contains(slash)
}

let failure = dispense()
failure.report()
exit(failure.code.rawValue)
