/// The tree a tar stream has described so far, used to refuse entries that could write
/// outside the extraction root. Pure bookkeeping: the dispenser additionally writes with
/// `openat` + `O_NOFOLLOW`, so a bug here still cannot make it follow a link. `:pack` runs
/// its tree through the same rules, so it cannot write what the dispenser would refuse.
public struct TarTree {
    private let dialect: TarDialect
    private var kinds: [[UInt8]: TarEntryKind] = [:]
    private var links: [TarLink] = []
    /// Parents a `.foreign` archive used before (or without) their own entry.
    private var implicitDirectories: [[UInt8]: Bool] = [:]

    /// A `.foreign` tree admits symlinks whatever their target, for `escapingLinks()` to
    /// single out at the end, and parents that have no entry of their own (or a later
    /// one), as tar itself does; a `.batamanta` one refuses both at once.
    public init(dialect: TarDialect = .batamanta) {
        self.dialect = dialect
    }

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
            case nil:
                guard dialect == .foreign else { throw .unsafeEntry(.missingParent, path: rawPath) }
                kinds[prefix] = .directory
                implicitDirectories[prefix] = true
            case .file, .symlink: throw .unsafeEntry(.throughLink, path: rawPath)
            }
        }
        if kinds[path] != nil {
            guard kind == .directory, implicitDirectories.removeValue(forKey: path) != nil else {
                throw .unsafeEntry(.duplicate, path: rawPath)
            }
        }
        if kind == .symlink, dialect == .foreign {
            links.append(TarLink(path: path, target: linkTarget))
        } else if kind == .symlink {
            guard !linkTarget.isEmpty else { throw .unsafeEntry(.escapingLinkTarget, path: rawPath) }
            guard linkTarget[0] != separator else { throw .unsafeEntry(.absoluteLinkTarget, path: rawPath) }
            var depth = components.count - 1
            for component in splitComponents(linkTarget) where !component.isEmpty && component != [dot] {
                depth += component == [dot, dot] ? -1 : 1
                if depth < 0 { throw .unsafeEntry(.escapingLinkTarget, path: rawPath) }
            }
            links.append(TarLink(path: path, target: linkTarget))
        }
        kinds[path] = kind
        return path
    }

    /// Resolves every symlink the way the kernel would, through the other symlinks of the
    /// archive, because a chain of links that each stay inside lexically can still escape.
    /// Needs the whole archive, so it runs once at the end.
    public func checkLinks() throws(FormatError) {
        if let link = escapingLinks().first { throw .unsafeEntry(.escapingLinkTarget, path: link.path) }
    }

    /// The symlinks that are empty, absolute, or climb above the root once resolved.
    public func escapingLinks() -> [TarLink] {
        var targets: [[UInt8]: [UInt8]] = [:]
        for link in links { targets[link.path] = link.target }
        var escaping: [TarLink] = []
        for link in links {
            var hops = 40
            var location = splitComponents(link.path)
            location.removeLast()
            if link.target.isEmpty || link.target[0] == separator
                || !resolveSteps(link.target, &location, targets: targets, hops: &hops)
            {
                escaping.append(link)
            }
        }
        return escaping
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

public struct TarLink: Equatable, Sendable {
    public var path: [UInt8]
    public var target: [UInt8]

    public init(path: [UInt8], target: [UInt8]) {
        self.path = path
        self.target = target
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
