/// The payload of a content-header frame: class id, weight (always 0), body size and properties.
///
/// The properties (192 bytes inline) are kept in a shared immutable box, so a header, and the `Frame` and
/// `CommandAssembler.Output` that carry it, stay small and cheap to move. Empty properties share one box.
public struct ContentHeader: Sendable, Hashable {
    public var classID: UInt16
    public var weight: UInt16
    public var bodySize: UInt64
    private var box: PropertiesBox

    public var properties: BasicProperties {
        get { self.box.value }
        set { self.box = PropertiesBox.make(newValue) }
    }

    public init(classID: UInt16 = 60, weight: UInt16 = 0, bodySize: UInt64, properties: BasicProperties = .init()) {
        self.classID = classID
        self.weight = weight
        self.bodySize = bodySize
        self.box = PropertiesBox.make(properties)
    }

    private init(classID: UInt16, weight: UInt16, bodySize: UInt64, box: PropertiesBox) {
        self.classID = classID
        self.weight = weight
        self.bodySize = bodySize
        self.box = box
    }

    public static func == (lhs: ContentHeader, rhs: ContentHeader) -> Bool {
        lhs.classID == rhs.classID && lhs.weight == rhs.weight && lhs.bodySize == rhs.bodySize
            && (lhs.box === rhs.box || lhs.box.value == rhs.box.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.classID)
        hasher.combine(self.weight)
        hasher.combine(self.bodySize)
        hasher.combine(self.box.value)
    }

    /// Decodes a header payload that fills the reader to its end.
    ///
    /// Properties are decoded only for the basic class (60), the one content class of 0-9-1; for any other
    /// class they are left empty and `CommandAssembler` rejects the header (505), as RabbitMQ does.
    static func decode(from reader: inout WireReader) throws(AMQPError) -> ContentHeader {
        let classID = try reader.readInteger(UInt16.self, "content header")
        let weight = try reader.readInteger(UInt16.self, "content header")
        let bodySize = try reader.readInteger(UInt64.self, "content header")
        guard classID == 60 else {
            _ = try reader.skip(reader.remaining, "content header")
            return ContentHeader(classID: classID, weight: weight, bodySize: bodySize)
        }
        let box: PropertiesBox
        if reader.remaining == 2, reader.bytes.loadUnaligned(fromByteOffset: reader.index, as: UInt16.self) == 0 {
            _ = try reader.skip(2, "property flags")
            box = PropertiesBox.empty  // no properties: no allocation
        } else {
            box = try PropertiesBox(decoding: &reader)  // decoded in place, not copied
        }
        return ContentHeader(classID: classID, weight: weight, bodySize: bodySize, box: box)
    }

    /// Writes the header payload (without the frame around it).
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(self.classID)
        buffer.writeInteger(self.weight)
        buffer.writeInteger(self.bodySize)
        self.properties.encode(into: &buffer)
    }
}

/// Immutable storage for a header's properties.
final class PropertiesBox: Sendable {
    let value: BasicProperties
    private init(_ value: consuming BasicProperties) { self.value = value }

    init(decoding reader: inout WireReader) throws(AMQPError) {
        self.value = try BasicProperties.decode(from: &reader)
    }

    static let empty = PropertiesBox(BasicProperties())

    static func make(_ value: consuming BasicProperties) -> PropertiesBox {
        value.propertyFlags == 0 ? Self.empty : PropertiesBox(value)
    }

}
