/// Finds this binary's extraction, or extracts the payload, and returns how to start the
/// application. Every dispenser (cli, tui, daemon) starts here and differs only in what it
/// does with the `Launch`; the image is passed in because the daemon reads its metadata first.
func prepareLaunch(_ image: SelfImage) -> Result<Launch, Failure> {
    guard let app = image.metadata.first(bytes("app")), isSafeName(app),
        let version = image.metadata.first(bytes("version")), isSafeName(version),
        image.metadata.first(bytes("exec"))?.isEmpty == false
    else {
        return .failure(Failure(.corruptPayload, path: image.executablePath, "corrupt metadata: missing or unusable app, version or exec"))
    }
    let name = joined(app, [UInt8(ascii: "-")], version, [UInt8(ascii: "-")], hexDigits(Array(image.trailer.contentHash.prefix(8))))

    let cache: CacheDirectory
    switch CacheDirectory.locate() {
    case .success(let located): cache = located
    case .failure(let failure): return .failure(failure)
    }
    let root = cache.pathOf(name)
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
