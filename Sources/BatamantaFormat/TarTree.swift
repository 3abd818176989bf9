/// The tree a tar stream has described so far, used to refuse entries that could write
/// outside the extraction root. Pure bookkeeping: the dispenser additionally writes with
/// `openat` + `O_NOFOLLOW`, so a bug here still cannot make it follow a link. `:pack` runs
/// its tree through the same rules, so it cannot write what the dispenser would refuse.
public struct TarTree {
    private var kinds: [[UInt8]: TarEntryKind] = [:]
    private var links: [(path: [UInt8], target: [UInt8])] = []

    public init() {}

    /// Checks an entry against everything seen before and returns its normalized path.
    /// Parents must be earlier directory entries: nothing is created implicitly.
    public mutating func admit(_ rawPath: [UInt8], kind: TarEntryKind, linkTarget: [UInt8]) throws(FormatError) -> [UInt8] {
        var path = rawPath
        if kind == .directory, path.count > 1, path.last == separator { path.removeLast() }
        guard !path.isEmpty else { throw .unsafeEntry(.emptyPath, path: rawPath) }
        guard path[0] != separator else { throw .unsafeEntry(.absolutePath, path: rawPath) }
        let components = splitComponents(path)
        for component in components {
            if component.isEmpty || component == [dot] { throw .unsafeEntry(.dotComponent, path: rawPath) }
            if component == [dot, dot] { throw .unsafeEntry(.parentComponent, path: rawPath) }
        }
        var prefix: [UInt8] = []
        for component in components.dropLast() {
            if !prefix.isEmpty { prefix.append(separator) }
            prefix.append(contentsOf: component)
            switch kinds[prefix] {
            case .directory: continue
            case nil: throw .unsafeEntry(.missingParent, path: rawPath)
            case .file, .symlink: throw .unsafeEntry(.throughLink, path: rawPath)
            }
        }
        guard kinds[path] == nil else { throw .unsafeEntry(.duplicate, path: rawPath) }
        if kind == .symlink {
            guard !linkTarget.isEmpty else { throw .unsafeEntry(.escapingLinkTarget, path: rawPath) }
            guard linkTarget[0] != separator else { throw .unsafeEntry(.absoluteLinkTarget, path: rawPath) }
            var depth = components.count - 1
            for component in splitComponents(linkTarget) where !component.isEmpty && component != [dot] {
                depth += component == [dot, dot] ? -1 : 1
                if depth < 0 { throw .unsafeEntry(.escapingLinkTarget, path: rawPath) }
            }
            links.append((path: path, target: linkTarget))
        }
        kinds[path] = kind
        return path
    }

    /// Resolves every symlink the way the kernel would, through the other symlinks of the
    /// archive, because a chain of links that each stay inside lexically can still escape.
    /// Needs the whole archive, so it runs once at the end.
    public func checkLinks() throws(FormatError) {
        var targets: [[UInt8]: [UInt8]] = [:]
        for link in links { targets[link.path] = link.target }
        for link in links {
            var hops = 40
            var location = splitComponents(link.path)
            location.removeLast()
            guard resolveSteps(link.target, &location, targets: targets, hops: &hops) else {
                throw .unsafeEntry(.escapingLinkTarget, path: link.path)
            }
        }
    }

    /// Walks `target` from `location`, splicing in the targets of archive symlinks met on
    /// the way; false when it climbs above the root, is absolute, or loops.
    private func resolveSteps(_ target: [UInt8], _ location: inout [[UInt8]], targets: [[UInt8]: [UInt8]], hops: inout Int) -> Bool {
        for component in splitComponents(target) where !component.isEmpty && component != [dot] {
            if component == [dot, dot] {
                if location.isEmpty { return false }
                location.removeLast()
                continue
            }
            location.append(component)
            if let next = targets[joinComponents(location)] {
                hops -= 1
                if hops < 0 { return false }
                location.removeLast()
                if next.first == separator || !resolveSteps(next, &location, targets: targets, hops: &hops) { return false }
            }
        }
        return true
    }
}

private let separator = UInt8(ascii: "/")
private let dot = UInt8(ascii: ".")

private func splitComponents(_ path: [UInt8]) -> [[UInt8]] {
    path.split(separator: separator, omittingEmptySubsequences: false).map { Array($0) }
}

private func joinComponents(_ components: [[UInt8]]) -> [UInt8] {
    var joined: [UInt8] = []
    for component in components {
        if !joined.isEmpty { joined.append(separator) }
        joined.append(contentsOf: component)
    }
    return joined
}
