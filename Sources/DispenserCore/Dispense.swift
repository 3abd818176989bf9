/// Finds this binary's extraction, or extracts the payload, and returns how to start the
/// application. Every dispenser (cli, tui, daemon) starts here and differs only in what it
/// does with the `Launch`; the image is passed in because the daemon reads its metadata first.
func prepareLaunch(_ image: SelfImage) throws(Failure) -> Launch {
    let (app, name) = try extractionName(image)
    let cache = try CacheDirectory.locate()
    let extraction: FileDescriptor
    if let found = try ExtractionLock.openShared(name, of: app, in: cache) {
        extraction = found
    } else {
        let libc = image.metadata.first(bytes("libc"))
        try Preflight.check(libc: libc, needs: image.metadata.all(bytes("needs")), executable: image.executablePath)
        extraction = try Extraction.extract(image, named: name, app: app, in: cache)
        Cleanup.removeUnused(app: app, keeping: name, in: cache)
    }
    return Launch(metadata: image.metadata, root: cache.pathOf(name), extraction: extraction, executable: image.executablePath, cache: cache)
}

/// The app, and the name of its extraction in the cache: `<app>-<version>-<16 hex>`.
func extractionName(_ image: SelfImage) throws(Failure) -> (app: [UInt8], name: [UInt8]) {
    guard let app = image.metadata.first(bytes("app")), isSafeName(app),
        let version = image.metadata.first(bytes("version")), isSafeName(version),
        image.metadata.first(bytes("exec"))?.isEmpty == false
    else {
        throw Failure(.corruptPayload, path: image.executablePath, "corrupt metadata: missing or unusable app, version or exec")
    }
    return (app, joined(app, [UInt8(ascii: "-")], version, [UInt8(ascii: "-")], hexDigits(Array(image.trailer.contentHash.prefix(8)))))
}

/// `app` and `version` become one path component of the extraction's name.
func isSafeName(_ name: [UInt8]) -> Bool {
    !name.isEmpty && name[0] != UInt8(ascii: ".") && !name.contains(slash)
}
