/// Finds this binary's extraction, or extracts the payload, and returns how to start the
/// application. Every dispenser (cli, tui, daemon) starts here and differs only in what it
/// does with the `Launch`.
func prepareLaunch() -> Result<Launch, Failure> {
    let image: SelfImage
    switch SelfImage.open() {
    case .success(let opened): image = opened
    case .failure(let failure): return .failure(failure)
    }
    guard let app = image.metadata.first(bytes("app")), isSafeName(app),
        let version = image.metadata.first(bytes("version")), isSafeName(version),
        image.metadata.first(bytes("exec"))?.isEmpty == false
    else {
        return .failure(Failure(.corruptPayload, path: image.executablePath, "corrupt metadata: missing or unusable app, version or exec"))
    }
    let name = joined(app, [UInt8(ascii: "-")], version, [UInt8(ascii: "-")], Array(hexDigits(image.trailer.contentHash).prefix(16)))

    let cache: CacheDirectory
    switch CacheDirectory.locate() {
    case .success(let located): cache = located
    case .failure(let failure): return .failure(failure)
    }
    let root = joined(cache.path, [slash], name)
    let launch = Launch(metadata: image.metadata, root: root, executable: image.executablePath, cache: cache)

    switch ExtractionLock.openShared(name, in: cache) {
    case .success(.some): return .success(launch)
    case .success(nil): break
    case .failure(let failure): return .failure(failure)
    }

    let libc = image.metadata.first(bytes("libc"))
    if let failure = Preflight.check(libc: libc, needs: image.metadata.all(bytes("needs")), executable: image.executablePath) {
        return .failure(failure)
    }
    if case .failure(let failure) = Extraction.extract(image, named: name, app: app, in: cache) {
        return .failure(failure)
    }
    Cleanup.removeUnused(app: app, keeping: name, in: cache)
    return .success(launch)
}

/// `app` and `version` become one path component of the extraction's name.
func isSafeName(_ name: [UInt8]) -> Bool {
    !name.isEmpty && name[0] != UInt8(ascii: ".") && !name.contains(slash)
}
