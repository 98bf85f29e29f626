// Wire codec benchmarks. From Benchmarks/:
//   swift package benchmark --target WireBenchmarks                      (report; release build)
//   swift package benchmark thresholds check --target WireBenchmarks --metric mallocCountTotal
//   swift package --allow-writing-to-package-directory benchmark thresholds update \
//       --target WireBenchmarks --metric mallocCountTotal                 (after an intended change)
// Thresholds/ holds the malloc counts per 1000 commands (p90).

import AOPWire
import Benchmark

/// Commands per measured iteration; results are scaled (`.kilo`) so they read per command.
private let commandsPerIteration = 1000
private let body = [UInt8](repeating: 0x61, count: 1024)
private let properties = BasicProperties(contentType: "text/plain", deliveryMode: 2)
private let publish = AMQPMethod.basicPublish(BasicPublish(exchange: "amq.direct", routingKey: "orders.eu"))
private let frameMax: UInt32 = 131_072

/// 1000 × (basic.publish + content header + 1 KiB body) in one buffer, as a publisher's socket delivers them.
private func publishStream() -> ByteBuffer {
    var buffer = ByteBuffer(capacity: commandsPerIteration * 1100)
    for _ in 0..<commandsPerIteration {
        buffer.writeMethodFrame(channel: 1, publish)
        buffer.writeContent(channel: 1, properties: properties, body: body, frameMax: frameMax)
    }
    return buffer
}

private let stream = publishStream()

/// An output buffer whose memory is already touched, so page faults of a fresh allocation are not measured.
private func preparedOutputBuffer() -> ByteBuffer {
    var buffer = ByteBuffer(capacity: 2 << 20)
    buffer.writeBytes([UInt8](repeating: 0, count: 2 << 20))
    buffer.clear()
    return buffer
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 10_000
    )

    Benchmark("DecodePublish1KiB") { benchmark in
        var decoder = FrameDecoder(maxFrameSize: frameMax)
        var assembler = CommandAssembler(maxBodySize: 128 << 20)
        benchmark.startMeasurement()
        for _ in 0..<benchmark.scaledIterations.count / commandsPerIteration {
            var buffer = stream  // shares storage; only the reader index moves
            var commands = 0
            do {
                while let frame = try decoder.next(from: &buffer) {
                    if case .content(let method, let header, let bytes) = try assembler.process(frame) {
                        blackHole(method)
                        blackHole(header)
                        blackHole(bytes)
                        commands += 1
                    }
                }
            } catch {
                fatalError("decode failed: \(error)")
            }
            precondition(commands == commandsPerIteration)
        }
    }

    Benchmark("EncodePublish1KiB") { benchmark in
        var buffer = preparedOutputBuffer()
        benchmark.startMeasurement()
        for _ in 0..<benchmark.scaledIterations.count / commandsPerIteration {
            buffer.clear()
            for _ in 0..<commandsPerIteration {
                buffer.writeMethodFrame(channel: 1, publish)
                buffer.writeContent(channel: 1, properties: properties, body: body, frameMax: frameMax)
            }
            blackHole(buffer.writerIndex)
        }
    }

    Benchmark("EncodeDeliver1KiB") { benchmark in
        var buffer = preparedOutputBuffer()
        benchmark.startMeasurement()
        for _ in 0..<benchmark.scaledIterations.count / commandsPerIteration {
            buffer.clear()
            for i in 0..<commandsPerIteration {
                buffer.writeBasicDeliver(
                    channel: 1, consumerTag: "amq.ctag-1", deliveryTag: UInt64(i), redelivered: false,
                    exchange: "amq.direct", routingKey: "orders.eu", properties: properties, body: body,
                    frameMax: frameMax)
            }
            blackHole(buffer.writerIndex)
        }
    }
}
