namespace Lb.TestSupport;

/// <summary>The ways the proxy listener serves HTTP/1.x (issue #16); every proxy integration test runs against each.</summary>
public enum ProxyPath
{
    /// <summary>Kestrel's HTTP server, <c>ProxyHandler</c> and the YARP forwarder (<c>fastPath: false</c>).</summary>
    Yarp,

    /// <summary>Lb's connection-level HTTP/1.1 proxy (<c>fastPath: true</c>) on Kestrel's socket transport (<c>ioLoop: false</c>); HTTP/2 still takes the YARP path.</summary>
    Fast,

    /// <summary>The connection-level proxy on Lb's epoll I/O loop (<c>fastPath: true, ioLoop: true</c>); HTTP/2 still takes the YARP path.</summary>
    Loop,
}
