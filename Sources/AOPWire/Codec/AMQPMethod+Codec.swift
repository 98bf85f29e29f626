extension AMQPMethod {
    /// Decodes one method-frame payload: class id, method id, then the arguments.
    ///
    /// The readable bytes must hold exactly one method; all of them are consumed.
    /// - Throws: 540 NOT_IMPLEMENTED for an unknown class or method; 501 FRAME_ERROR when the arguments
    ///   are truncated or followed by extra bytes (RabbitMQ: `cannot decode`); 502 SYNTAX_ERROR for an unknown
    ///   field-table type tag. The error names the failing class and method when they are known.
    ///   On a throw the reader index is unchanged.
    public static func decode(from payload: inout ByteBuffer) throws(AMQPError) -> AMQPMethod {
        try payload.withWireReader { (reader: inout WireReader) throws(AMQPError) in
            try Self.decodeWhole(from: &reader)
        }
    }

    /// Decodes a method that must fill the reader to its end.
    static func decodeWhole(from reader: inout WireReader) throws(AMQPError) -> AMQPMethod {
        let method = try Self.decode(from: &reader)
        guard reader.isAtEnd else {
            throw AMQPError.frameError("cannot decode \(method.name): \(reader.remaining) bytes after the arguments")
                .failing(classID: method.classID, methodID: method.methodID)
        }
        return method
    }
}
