using System.Diagnostics.Metrics;

namespace Lb.AspNetCore.L4;

/// <summary>TCP listener counters, tagged by listener id.</summary>
internal sealed class TcpMetrics
{
    private readonly Counter<long> _connections;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _connectFailures;
    private readonly Counter<long> _failed;
    private readonly UpDownCounter<long> _open;

    public TcpMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Diagnostics.ProxyMetrics.MeterName);
        _connections = meter.CreateCounter<long>("lb.tcp.connections", "{connection}", "TCP connections relayed to a target");
        _rejected = meter.CreateCounter<long>("lb.tcp.rejected", "{connection}", "TCP connections closed at once because the listener was at max_connections");
        _connectFailures = meter.CreateCounter<long>("lb.tcp.connect_failures", "{connection}", "Connections to targets that failed or timed out");
        _failed = meter.CreateCounter<long>("lb.tcp.failed_connections", "{connection}", "TCP connections closed because their target failed (none could be connected, or it reset mid-stream)");
        _open = meter.CreateUpDownCounter<long>("lb.tcp.open_connections", "{connection}", "TCP connections open now");
    }

    public void Rejected(string listener) => _rejected.Add(1, new KeyValuePair<string, object?>("listener", listener));

    public void ConnectFailed(string listener) => _connectFailures.Add(1, new KeyValuePair<string, object?>("listener", listener));

    public void Failed(string listener) => _failed.Add(1, new KeyValuePair<string, object?>("listener", listener));

    public void Opened(string listener)
    {
        _connections.Add(1, new KeyValuePair<string, object?>("listener", listener));
        _open.Add(1, new KeyValuePair<string, object?>("listener", listener));
    }

    public void Closed(string listener) => _open.Add(-1, new KeyValuePair<string, object?>("listener", listener));
}
