using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Lb.AspNetCore.Runtime;
using Lb.AspNetCore.Options;
using Lb.Balancing;
using Microsoft.Extensions.Options;

namespace Lb.AspNetCore.FastPath;

/// <summary>
/// The connection-level proxy's side table: per pool of the current snapshot, idle keep-alive connections per target.
/// A target that survives a configuration change (same object in the new snapshot) keeps its connections; a removed
/// target's idle connections are closed and its in-flight ones are closed when their request ends, so requests
/// running on an old snapshot finish there.
/// </summary>
internal sealed class FastPathTable : IRuntimeAttachment, IDisposable
{
    private static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(5);
    internal static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(90);

    private readonly BlockPool _pool = new();
    private readonly ITimer _sweep;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private Dictionary<UpstreamTarget, TargetConnections> _byTarget = new(ReferenceEqualityComparer.Instance);
    private FastRuntime _current = new(RuntimeSnapshot.Empty, []);
    private readonly bool _inline;
    private readonly bool _ioLoop;

    public FastPathTable(TimeProvider time, IOptions<ProxyOptions> options)
    {
        _time = time;
        _inline = options.Value.InlineIo;
        _ioLoop = options.Value.IoLoop;
        _sweep = time.CreateTimer(_ => Sweep(), null, SweepPeriod, SweepPeriod);
    }

    public FastRuntime Current => Volatile.Read(ref _current);

    public Action Prepare(RuntimeSnapshot next)
    {
        var pools = new PoolConnections[next.Pools.Length];
        var byTarget = new Dictionary<UpstreamTarget, TargetConnections>(ReferenceEqualityComparer.Instance);
        lock (_gate)
        {
            for (var i = 0; i < pools.Length; i++)
            {
                var pool = next.Pools[i];
                var targets = new Dictionary<UpstreamTarget, TargetConnections>(pool.Targets.Count, ReferenceEqualityComparer.Instance);
                foreach (var target in pool.Targets)
                {
                    if (!_byTarget.TryGetValue(target, out var connections))
                    {
                        connections = new TargetConnections(target, _pool, _inline, _ioLoop);
                    }
                    targets[target] = connections;
                    byTarget[target] = connections;
                }
                pools[i] = new PoolConnections(pool, targets);
            }
        }
        var prepared = new FastRuntime(next, pools);
        return () =>
        {
            List<TargetConnections>? retired = null;
            lock (_gate)
            {
                foreach (var (target, connections) in _byTarget)
                {
                    if (!byTarget.ContainsKey(target))
                    {
                        (retired ??= []).Add(connections);
                    }
                }
                _byTarget = byTarget;
            }
            Volatile.Write(ref _current, prepared);
            if (retired is not null)
            {
                foreach (var connections in retired)
                {
                    connections.Retire();
                }
            }
        };
    }

    public void Dispose()
    {
        _sweep.Dispose();
        lock (_gate)
        {
            foreach (var connections in _byTarget.Values)
            {
                connections.Retire();
            }
            _byTarget.Clear();
        }
    }

    private void Sweep()
    {
        TargetConnections[] all;
        lock (_gate)
        {
            all = [.. _byTarget.Values];
        }
        var cutoff = _time.GetTimestamp() - (long)(IdleTimeout.TotalSeconds * _time.TimestampFrequency);
        foreach (var connections in all)
        {
            connections.CloseIdleBefore(cutoff);
        }
    }

    internal long Timestamp() => _time.GetTimestamp();
}

/// <summary>A runtime snapshot with the fast path's connection pools (parallel to <see cref="RuntimeSnapshot.Pools"/>).</summary>
internal sealed class FastRuntime(RuntimeSnapshot snapshot, PoolConnections[] pools)
{
    public RuntimeSnapshot Snapshot { get; } = snapshot;

    public PoolConnections[] Pools { get; } = pools;
}

/// <summary>The connection pools of one upstream pool's targets.</summary>
internal sealed class PoolConnections(UpstreamPool pool, Dictionary<UpstreamTarget, TargetConnections> targets)
{
    public UpstreamPool Pool { get; } = pool;

    public TargetConnections Get(UpstreamTarget target) => targets[target];
}

/// <summary>
/// Idle keep-alive connections to one target, last in first out (the warmest connection first). With the I/O loop
/// on, each loop has its own idle list: a connection is reused only by clients on the loop it lives on (another
/// loop would hand every event across threads).
/// </summary>
internal sealed class TargetConnections
{
    private const int MaxIdle = 1024;

    private readonly BlockPool _pool;
    private readonly EndPoint _endPoint;
    private readonly Lock _gate = new();
    private readonly UpstreamConnection[][] _idle;
    private readonly int[] _count;
    private volatile bool _retired;

    private readonly bool _inline;
    private readonly bool _ioLoop;

    public TargetConnections(UpstreamTarget target, BlockPool pool, bool inline, bool ioLoop = false)
    {
        Target = target;
        _pool = pool;
        _inline = inline;
        _endPoint = IPAddress.TryParse(target.Host, out var ip) ? new IPEndPoint(ip, target.Port) : new DnsEndPoint(target.Host, target.Port);
        // Upstream connections go on the client's loop for literal addresses; names keep the runtime's sockets (its resolver).
        _ioLoop = ioLoop && Loop.IoLoop.IsSupported && _endPoint is IPEndPoint;
        var buckets = _ioLoop ? 1 + Loop.IoLoop.All.Length : 1;
        _idle = new UpstreamConnection[buckets][];
        _count = new int[buckets];
        for (var i = 0; i < buckets; i++)
        {
            _idle[i] = new UpstreamConnection[16];
        }
    }

    public UpstreamTarget Target { get; }

    /// <summary>The idle list of the calling thread: its loop's, or the shared one (0) off the loops.</summary>
    private int Bucket => _ioLoop && Loop.IoLoop.Current is { } loop ? 1 + loop.Index : 0;

    /// <summary>An idle connection the upstream has not closed meanwhile, or null.</summary>
    public UpstreamConnection? TryTake()
    {
        var bucket = Bucket;
        while (true)
        {
            UpstreamConnection? connection;
            lock (_gate)
            {
                if (_count[bucket] == 0)
                {
                    return null;
                }
                connection = _idle[bucket][--_count[bucket]];
                _idle[bucket][_count[bucket]] = null!;
            }
            if (connection.IsStillIdle())
            {
                return connection;
            }
            connection.Close();
        }
    }

    public void Return(UpstreamConnection connection, long now)
    {
        if (!_retired)
        {
            lock (_gate)
            {
                var bucket = connection.Bucket;
                if (_count[bucket] < MaxIdle)
                {
                    if (_count[bucket] == _idle[bucket].Length)
                    {
                        Array.Resize(ref _idle[bucket], _idle[bucket].Length * 2);
                    }
                    connection.IdleSince = now;
                    _idle[bucket][_count[bucket]++] = connection;
                    return;
                }
            }
        }
        connection.Close();
    }

    public async ValueTask<UpstreamConnection> ConnectAsync(TimeSpan timeout)
    {
        if (_ioLoop && Loop.IoLoop.Current is { } loop)
        {
            var looped = await Loop.LoopSocket.ConnectAsync(loop, (IPEndPoint)_endPoint, _pool, timeout).ConfigureAwait(false);
            return new UpstreamConnection(looped, this, 1 + loop.Index);
        }
        var socket = new Socket(_endPoint is IPEndPoint ipe ? ipe.AddressFamily : AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        if (_endPoint is DnsEndPoint)
        {
            socket.DualMode = true;
        }
        socket.NoDelay = true;
        if (_inline)
        {
            InlineCompletions.TryEnable(socket);
        }
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            await socket.ConnectAsync(_endPoint, cts.Token).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new UpstreamConnection(new UpstreamSocket(socket, _pool), this, 0);
    }

    public void Retire()
    {
        _retired = true;
        CloseIdleBefore(long.MaxValue);
    }

    public void CloseIdleBefore(long cutoff)
    {
        List<UpstreamConnection>? closing = null;
        lock (_gate)
        {
            for (var b = 0; b < _idle.Length; b++)
            {
                var idle = _idle[b];
                var kept = 0;
                for (var i = 0; i < _count[b]; i++)
                {
                    if (idle[i].IdleSince < cutoff)
                    {
                        (closing ??= []).Add(idle[i]);
                    }
                    else
                    {
                        idle[kept++] = idle[i];
                    }
                }
                Array.Clear(idle, kept, _count[b] - kept);
                _count[b] = kept;
            }
        }
        closing?.ForEach(c => c.Close());
    }
}

/// <summary>One keep-alive connection to an upstream target.</summary>
internal sealed class UpstreamConnection(IUpstreamTransport socket, TargetConnections owner, int bucket)
{
    /// <summary>The idle list it returns to (<see cref="TargetConnections"/>): its loop's, or 0.</summary>
    public int Bucket { get; } = bucket;

    public PipeReader Input { get; } = socket.Input;

    public PipeWriter Output { get; } = socket.Output;

    public TargetConnections Owner { get; } = owner;

    public long IdleSince;

    /// <summary>Requests served so far: a reused connection the upstream closed meanwhile may be retried on a fresh one.</summary>
    public int Requests;

    /// <summary>False when the upstream closed it or sent something unasked while idle.</summary>
    public bool IsStillIdle()
    {
        try
        {
            if (Input.TryRead(out var result))
            {
                Input.AdvanceTo(result.Buffer.Start);
                return false;
            }
            return true;
        }
        catch (Exception ex) when (ex is SocketException or IOException or InvalidOperationException)
        {
            return false; // the receive loop ended with an error (reset)
        }
    }

    public void Close() => _ = CloseAsync();

    private async Task CloseAsync()
    {
        try
        {
            await socket.CloseAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Closing a broken socket has nobody to report to.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
