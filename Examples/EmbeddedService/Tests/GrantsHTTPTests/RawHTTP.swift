import Foundation

/// A client that reads part of a response and closes its socket, which no well-behaved HTTP client does on
/// purpose. Blocking POSIX calls: run it off the cooperative pool.
enum RawHTTP {
    /// Sends `GET path` to 127.0.0.1:`port`, reads at least `after` bytes, then closes; returns the bytes read.
    static func getAndHangUp(port: Int, path: String, after: Int) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SetupError("socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw SetupError("connect to port \(port): \(errno)") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { throw SetupError("send") }
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while total < after {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            total += count
        }
        return total
    }
}
