using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Threading.Channels;
using Lb.AspNetCore.Runtime;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lb.AspNetCore.L4;

/// <summary>
/// Binds and unbinds the TCP listeners of the desired state as snapshots are published, through Kestrel's socket
/// transport (<see cref="IConnectionListenerFactory"/>), so no server restart is needed. A listener whose id and
/// listen address stay the same keeps its socket and its connections and takes the new pool and balancer for new
/// connections; a removed one stops accepting and lets its connections finish. A bind failure is recorded on the
/// listener (shown in <c>/api/runtime</c>) and retried with the next snapshot; it never stops the node.
/// </summary>
internal sealed partial class TcpListenerManager : BackgroundService, IRuntimeAttachment
{
    private readonly Channel<RuntimeSnapshot> _snapshots = Channel.CreateBounded<RuntimeSnapshot>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly Dictionary<string, ActiveListener> _active = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ActiveListener, byte> _draining = new();
    private readonly IConnectionListenerFactory _factory;
    private readonly TimeProvider _time;
    private readonly ILogger<TcpListenerManager> _logger;
    private readonly TcpMetrics _metrics;
    private volatile TcpListenerState[] _states = [];
    private readonly bool _inline;

    public TcpListenerManager(TimeProvider time, IMeterFactory meterFactory, ILoggerFactory loggerFactory, Microsoft.Extensions.Options.IOptions<Options.ProxyOptions> proxy)
    {
        // Its own socket transport: independent of how (or whether) Kestrel serves HTTP on this node. With inline I/O
        // (ProxyOptions.InlineIo, as the fast path; or the process-wide DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1)
        // the client and target sockets complete on the socket engine's thread and the transport's pipe callbacks run
        // inline too: the relay never blocks, and a hand-off per read is most of a short connection's cost.
        _inline = proxy.Value.InlineIo || Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1";
        _factory = new SocketTransportFactory(Microsoft.Extensions.Options.Options.Create(new SocketTransportOptions { UnsafePreferInlineScheduling = _inline }), loggerFactory);
        _time = time;
        _logger = loggerFactory.CreateLogger<TcpListenerManager>();
        _metrics = new TcpMetrics(meterFactory);
    }

    /// <summary>The listeners of the last reconciled snapshot with their bound endpoint, open connections and bind error.</summary>
    public IReadOnlyList<TcpListenerState> States => _states;

    public Action Prepare(RuntimeSnapshot next) => () => _snapshots.Writer.TryWrite(next);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var snapshot in _snapshots.Reader.ReadAllAsync(stoppingToken))
            {
                await ReconcileAsync(snapshot.TcpListeners, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        var all = _active.Values.Concat(_draining.Keys).ToArray();
        _active.Clear();
        foreach (var listener in all)
        {
            await listener.CloseAsync(abortConnections: true);
        }
    }

    private async Task ReconcileAsync(TcpListenerRuntime[] wanted, CancellationToken cancellationToken)
    {
        var keep = new HashSet<string>(StringComparer.Ordinal);
        foreach (var runtime in wanted)
        {
            keep.Add(runtime.Id);
            if (_active.TryGetValue(runtime.Id, out var existing))
            {
                if (existing.SameSocket(runtime) && existing.Error is null)
                {
                    existing.Runtime = runtime;
                    existing.Retime();
                    continue;
                }
                _active.Remove(runtime.Id);
                await StopAsync(existing);
            }
            var listener = new ActiveListener(runtime, this);
            _active[runtime.Id] = listener;
            try
            {
                listener.Bound = await _factory.BindAsync(runtime.BindEndPoint, cancellationToken);
                listener.StartAccepting();
                LogBound(_logger, runtime.Id, listener.Bound.EndPoint.ToString() ?? "");
            }
#pragma warning disable CA1031 // A port in use (or any bind failure) is the listener's error, shown in the runtime view; the node serves on.
            catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
            {
                listener.Error = $"cannot listen on {runtime.Spec.Listen}: {ex.Message}";
                LogBindFailed(_logger, ex, runtime.Id, runtime.Spec.Listen);
            }
        }
        foreach (var id in _active.Keys.Where(id => !keep.Contains(id)).ToArray())
        {
            var gone = _active[id];
            _active.Remove(id);
            await StopAsync(gone);
        }
        _states = [.. _active.Values.Select(a => a.State)];
    }

    /// <summary>Stops accepting; open connections finish on their own, then the listener is forgotten.</summary>
    private async Task StopAsync(ActiveListener listener)
    {
        _draining[listener] = 0;
        await listener.UnbindAsync();
        LogUnbound(_logger, listener.Runtime.Id);
        _ = listener.Drained.ContinueWith(t => _draining.TryRemove(listener, out var _), TaskScheduler.Default);
    }

    /// <summary>One bound socket and its accept loop; the connections it accepted count against its limit.</summary>
    private sealed class ActiveListener(TcpListenerRuntime runtime, TcpListenerManager owner)
    {
        private readonly ConcurrentDictionary<TcpRelay, byte> _connections = new();
        private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Task _acceptLoop = Task.CompletedTask;
        private ITimer? _sweep;
        private int _open;
        private long _accepted;
        private long _rejected;
        private long _failed;
        private volatile bool _stopping;

        /// <summary>Swapped by the reconciler when a new snapshot keeps this socket; read once per accepted connection.</summary>
        public volatile TcpListenerRuntime Runtime = runtime;

        public IConnectionListener? Bound { get; set; }

        public string? Error { get; set; }

        public Task Drained => _drained.Task;

        public TcpListenerState State => new(this);

        public bool SameSocket(TcpListenerRuntime next) => next.Host == Runtime.Host && next.Port == Runtime.Port;

        public void StartAccepting()
        {
            _acceptLoop = Task.Run(AcceptLoopAsync);
            var period = SweepPeriod(Runtime);
            _sweep = owner._time.CreateTimer(static s => ((ActiveListener)s!).Sweep(), this, period, period);
        }

        /// <summary>Re-times the sweep for a new runtime (its timeouts may be shorter).</summary>
        public void Retime()
        {
            var period = SweepPeriod(Runtime);
            _sweep?.Change(period, period);
        }

        /// <summary>A quarter of the shorter timeout, between 50 ms and 1 s: deadlines are met within that slack.</summary>
        private static TimeSpan SweepPeriod(TcpListenerRuntime runtime)
        {
            var quarter = (runtime.IdleTimeout < runtime.ConnectTimeout ? runtime.IdleTimeout : runtime.ConnectTimeout) / 4;
            return quarter < TimeSpan.FromMilliseconds(50) ? TimeSpan.FromMilliseconds(50) : quarter > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : quarter;
        }

        /// <summary>One timer per listener instead of one per connection: each connection checks its own deadlines.</summary>
        private void Sweep()
        {
            foreach (var relay in _connections.Keys)
            {
                relay.Sweep();
            }
        }

        private async Task AcceptLoopAsync()
        {
            var bound = Bound!;
            while (true)
            {
                ConnectionContext? connection;
                try
                {
                    connection = await bound.AcceptAsync();
                }
#pragma warning disable CA1031 // An accept error other than unbinding ends this loop only; the reason is logged.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    if (!_stopping)
                    {
                        LogAcceptFailed(owner._logger, ex, Runtime.Id);
                    }
                    break;
                }
                if (connection is null)
                {
                    break;
                }
                var current = Runtime;
                Interlocked.Increment(ref _accepted);
                if (Interlocked.Increment(ref _open) > current.MaxConnections)
                {
                    Interlocked.Decrement(ref _open);
                    Interlocked.Increment(ref _rejected);
                    owner._metrics.Rejected(current.Id);
                    _ = connection.DisposeAsync().AsTask();
                    continue;
                }
                if (owner._inline && connection.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionSocketFeature>()?.Socket is { } clientSocket)
                {
                    FastPath.InlineCompletions.TryEnable(clientSocket);
                }
                var relay = new TcpRelay(connection, current, owner._time, owner._metrics, owner._logger, owner._inline);
                _connections[relay] = 0;
                _ = RunAsync(relay);
            }
        }

        private async Task RunAsync(TcpRelay relay)
        {
            try
            {
                if (await relay.RunAsync() == Lb.Balancing.RequestOutcome.OtherFailure)
                {
                    Interlocked.Increment(ref _failed);
                    owner._metrics.Failed(Runtime.Id);
                }
            }
            finally
            {
                _connections.TryRemove(relay, out _);
                if (Interlocked.Decrement(ref _open) == 0 && _stopping)
                {
                    Drain();
                }
            }
        }

        public async Task UnbindAsync()
        {
            _stopping = true;
            if (Bound is { } bound)
            {
                await bound.UnbindAsync();
                await _acceptLoop;
                await bound.DisposeAsync();
            }
            if (Volatile.Read(ref _open) == 0)
            {
                Drain();
            }
        }

        /// <summary>No connection is left after unbinding: nothing to sweep any more.</summary>
        private void Drain()
        {
            _sweep?.Dispose();
            _drained.TrySetResult();
        }

        public async Task CloseAsync(bool abortConnections)
        {
            await UnbindAsync();
            if (abortConnections)
            {
                _sweep?.Dispose();
                foreach (var relay in _connections.Keys)
                {
                    relay.Abort();
                }
            }
        }

        public int Open => Volatile.Read(ref _open);

        public long Accepted => Interlocked.Read(ref _accepted);

        public long Rejected => Interlocked.Read(ref _rejected);

        public long Failed => Interlocked.Read(ref _failed);
    }

    /// <summary>A live view of one listener for <c>/api/runtime</c>.</summary>
    internal sealed class TcpListenerState
    {
        private readonly ActiveListener _listener;

        internal TcpListenerState(object listener) => _listener = (ActiveListener)listener;

        public string Id => _listener.Runtime.Id;

        public TcpListenerRuntime Runtime => _listener.Runtime;

        /// <summary>The bound endpoint (with the real port when <c>listen</c> asked for port 0); null when binding failed.</summary>
        public IPEndPoint? BoundEndPoint => _listener.Bound?.EndPoint as IPEndPoint;

        public string? Error => _listener.Error;

        public int OpenConnections => _listener.Open;

        public long AcceptedConnections => _listener.Accepted;

        public long RejectedConnections => _listener.Rejected;

        /// <summary>Connections closed because their target failed: none could be connected, or it reset mid-stream.</summary>
        public long FailedConnections => _listener.Failed;
    }

    [LoggerMessage(EventId = 6100, Level = LogLevel.Information, Message = "TCP listener {Id} listening on {EndPoint}")]
    private static partial void LogBound(ILogger logger, string id, string endPoint);

    [LoggerMessage(EventId = 6101, Level = LogLevel.Error, Message = "TCP listener {Id} cannot listen on {Listen}; the node serves on without it")]
    private static partial void LogBindFailed(ILogger logger, Exception exception, string id, string listen);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Information, Message = "TCP listener {Id} stopped accepting; its open connections finish")]
    private static partial void LogUnbound(ILogger logger, string id);

    [LoggerMessage(EventId = 6103, Level = LogLevel.Warning, Message = "TCP listener {Id} stopped accepting after an error")]
    private static partial void LogAcceptFailed(ILogger logger, Exception exception, string id);
}
