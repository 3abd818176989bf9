/// What docs/FORMAT.md requires of each of the payload's zstd frames, checked by
/// `:assemble`, `:inspect` and the dispenser alike.
public enum ZstdFrame {
    public static let magic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
    /// The magic number and the frame header descriptor, which holds the checksum flag.
    public static let headerPrefixSize = 5

    /// We write every frame with the checksum flag on, so a frame without one was not
    /// made by us and would skip the integrity check.
    public static func hasChecksummedHeader<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        guard bytes.starts(with: magic), let descriptor = bytes.dropFirst(magic.count).first else { return false }
        return descriptor & 0x04 != 0
    }
}
