/// The payload of a content-header frame: class id, weight (always 0), body size and properties.
public struct ContentHeader: Sendable, Hashable {
    public var classID: UInt16
    public var weight: UInt16
    public var bodySize: UInt64
    public var properties: BasicProperties

    public init(classID: UInt16 = 60, weight: UInt16 = 0, bodySize: UInt64, properties: BasicProperties = .init()) {
        self.classID = classID
        self.weight = weight
        self.bodySize = bodySize
        self.properties = properties
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
        let properties = try BasicProperties.decode(from: &reader)
        return ContentHeader(classID: classID, weight: weight, bodySize: bodySize, properties: properties)
    }

    /// Writes the header payload (without the frame around it).
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(self.classID)
        buffer.writeInteger(self.weight)
        buffer.writeInteger(self.bodySize)
        self.properties.encode(into: &buffer)
    }
}
