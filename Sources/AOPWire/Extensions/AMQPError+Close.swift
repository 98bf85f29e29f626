extension AMQPError {
    /// `connection.close` carrying this error (reply code, `CODE - message` text, failing class and method).
    /// The reply text is a shortstr: the encoder truncates it to 255 bytes.
    public var connectionClose: ConnectionClose {
        ConnectionClose(replyCode: self.code.replyCode, replyText: self.replyText, classID: self.classID, methodID: self.methodID)
    }

    /// `channel.close` carrying this error.
    public var channelClose: ChannelClose {
        ChannelClose(replyCode: self.code.replyCode, replyText: self.replyText, classID: self.classID, methodID: self.methodID)
    }

    /// The close method this error calls for: `connection.close` for hard errors, `channel.close` for soft ones.
    public var closeMethod: AMQPMethod {
        self.code.closesConnection ? .connectionClose(self.connectionClose) : .channelClose(self.channelClose)
    }
}
