import AOPClient
import AOPIO

/// Opens many connections (handshake and one channel each) for memory runs, 64 at a time.
enum IdleConnections {
    static func open(_ count: Int, configuration: AMQPClientConfiguration, loops: RingLoopGroup) async throws
        -> [AMQPClientConnection]
    {
        var opened: [AMQPClientConnection] = []
        opened.reserveCapacity(count)
        var next = 0
        while next < count {
            let slice = next..<min(count, next + 64)
            next = slice.upperBound
            try await withThrowingTaskGroup(of: AMQPClientConnection.self) { group in
                for i in slice {
                    var config = configuration
                    config.connectionName = "aop-perf idle \(i)"
                    config.heartbeat = 0
                    let loop = loops.next()
                    group.addTask {
                        let connection = try await AMQPClientConnection.connect(config, on: loop)
                        _ = try await connection.openChannel()
                        return connection
                    }
                }
                for try await connection in group { opened.append(connection) }
            }
        }
        return opened
    }
}
