import AOPBroker
import Logging

/// Reads `aop.conf`: `key = value` lines (RabbitMQ's rabbitmq.conf style), `#` comments, blank lines.
/// Unknown keys and bad values are errors that name the line, so typos never pass silently.
public enum ConfigurationFile {
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var line: Int
        public var message: String
        public var description: String { "line \(self.line): \(self.message)" }
    }

    /// Applies the file's settings on top of `configuration`.
    public static func apply(_ text: String, to configuration: inout ServerConfiguration) throws(ParseError) {
        var defaultUser: String?
        var defaultPass: String?
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty { continue }
            guard let eq = trimmed.firstIndex(of: "=") else {
                throw ParseError(line: lineNumber, message: "expected 'key = value'")
            }
            let key = trimmed[..<eq].trimmingWhitespace()
            let value = trimmed[trimmed.index(after: eq)...].trimmingWhitespace()
            func int<T: FixedWidthInteger>(_: T.Type) throws(ParseError) -> T {
                guard let v = T(value) else { throw ParseError(line: lineNumber, message: "\(key): '\(value)' is not a valid number") }
                return v
            }
            switch key {
            case "listeners.tcp.default", "bind":
                // Accepts "ADDR:PORT", "PORT" or "ADDR".
                if let port = UInt16(value) {
                    configuration.port = port
                } else if let colon = value.lastIndex(of: ":"), let port = UInt16(value[value.index(after: colon)...]) {
                    configuration.bind = String(value[..<colon]).trimmingCharacters(in: "[]")
                    configuration.port = port
                } else {
                    configuration.bind = value
                }
            case "port": configuration.port = try int(UInt16.self)
            case "data_dir": configuration.dataDirectory = value
            case "log.level", "log_level":
                guard let level = Logger.Level(rawValue: value) else {
                    throw ParseError(line: lineNumber, message: "log level '\(value)' is not one of trace, debug, info, notice, warning, error, critical")
                }
                configuration.logLevel = level
            case "io_threads": configuration.ioThreads = max(1, try int(Int.self))
            case "heartbeat": configuration.broker.heartbeat = try int(UInt16.self)
            case "frame_max": configuration.broker.frameMax = try int(UInt32.self)
            case "channel_max": configuration.broker.channelMax = try int(UInt16.self)
            case "handshake_timeout": configuration.broker.handshakeTimeout = .milliseconds(try int(Int64.self))
            case "max_message_size": configuration.broker.maxMessageSize = try int(UInt64.self)
            case "default_vhost":
                configuration.broker.virtualHosts = [value] + configuration.broker.virtualHosts.filter { $0 != value && $0 != "/" }
            case "vhosts":
                configuration.broker.virtualHosts = value.split(separator: ",").map { String($0).trimmingCharacters(in: " ") }
            case "default_user": defaultUser = value
            case "default_pass": defaultPass = value
            case "loopback_users":
                configuration.broker.loopbackUsers = value == "none" ? [] :
                    value.split(separator: ",").map { String($0).trimmingCharacters(in: " ") }
            case "cluster_name": configuration.broker.clusterName = value
            case "vm_memory_high_watermark.relative":
                guard let fraction = Double(value), fraction > 0 else {
                    throw ParseError(line: lineNumber, message: "\(key): '\(value)' is not a positive fraction")
                }
                configuration.memoryHighWatermark = .relative(fraction)
            case "storage.segment_size":
                let size = try int(UInt64.self)
                guard size >= 4096 else { throw ParseError(line: lineNumber, message: "\(key) must be at least 4096") }
                configuration.segmentSize = size
            case "storage.retention.time_ms":
                if value == "infinite" { configuration.retainForever = true } else {
                    configuration.retentionTime = .milliseconds(try int(Int64.self))
                }
            case "storage.retention.size":
                if value == "infinite" { configuration.retainForever = true } else {
                    configuration.retentionSize = try int(UInt64.self)
                }
            case "storage.preallocation":
                configuration.preallocationBytes = try int(Int.self)
            case "storage.commit_rounds_in_flight":
                let rounds = try int(Int.self)
                guard rounds >= 1 else { throw ParseError(line: lineNumber, message: "\(key) must be at least 1") }
                configuration.commitRoundsInFlight = rounds
            case "storage.unsynced_batches":
                let batches = try int(Int.self)
                guard (1...2).contains(batches) else { throw ParseError(line: lineNumber, message: "\(key) must be 1 or 2") }
                configuration.unsyncedBatches = batches
            case "vm_memory_high_watermark.absolute":
                configuration.memoryHighWatermark = .absolute(try int(UInt64.self))
            default:
                throw ParseError(line: lineNumber, message: "unknown setting '\(key)'")
            }
        }
        if defaultUser != nil || defaultPass != nil {
            let name = defaultUser ?? "guest"
            let pass = defaultPass ?? "guest"
            configuration.broker.users.removeAll { $0.name == "guest" || $0.name == name }
            configuration.broker.users.append(.init(name: name, password: pass, tags: ["administrator"]))
        }
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(self.drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }

    func trimmingCharacters(in set: String) -> String {
        String(self.drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
