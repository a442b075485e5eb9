using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Lb.AspNetCore.FastPath.Loop;

/// <summary>
/// An address Kestrel binds through <see cref="LoopTransportFactory"/> (the proxy listener with <c>ioLoop</c> on);
/// every other address keeps the socket transport.
/// </summary>
internal sealed class LoopEndPoint(IPAddress address, int port) : IPEndPoint(address, port)
{
    /// <summary>The fast path is on this listener's middleware (set while Kestrel builds it).</summary>
    public bool FastPath { get; set; }

    /// <summary>
    /// The listener's whole middleware chain as Kestrel built it, when the loop may run it itself: the fast path is on
    /// it and the listener offers no HTTP/2 (no ALPN <c>h2</c> to hand over after a TLS handshake). Null otherwise.
    /// </summary>
    public ConnectionDelegate? Direct { get; set; }
}

/// <summary>Kestrel's transport for <see cref="LoopEndPoint"/>s: listeners whose connections live on the <see cref="IoLoop"/>s.</summary>
internal sealed partial class LoopTransportFactory(ILoggerFactory loggers) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly BlockPool _pool = new();
    private readonly ILogger _logger = loggers.CreateLogger("Lb.FastPath.IoLoop");

    public bool CanBind(EndPoint endpoint) => endpoint is LoopEndPoint && IoLoop.IsSupported;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var requested = (IPEndPoint)endpoint;
        var socket = new Socket(requested.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (requested.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            socket.NoDelay = true; // Linux copies it to every accepted socket: no setsockopt per connection
            socket.Bind(requested);
            socket.Listen(512);
            socket.Blocking = false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw new AddressInUseException(ex.Message, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var bound = (IPEndPoint)socket.LocalEndPoint!;
        var endPoint = new LoopEndPoint(bound.Address, bound.Port) { FastPath = ((LoopEndPoint)endpoint).FastPath, Direct = ((LoopEndPoint)endpoint).Direct };
        return new ValueTask<IConnectionListener>(new LoopListener(socket, endPoint, _pool, _logger));
    }

    [LoggerMessage(EventId = 6171, Level = LogLevel.Debug, Message = "Connection {ConnectionId} on the I/O loop ended by an unexpected error")]
    internal static partial void LogConnectionFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(EventId = 6170, Level = LogLevel.Warning, Message = "Accepting on {EndPoint} failed ({Error}): no descriptors or memory; accepting again in {DelayMs} ms")]
    internal static partial void LogAcceptBackoff(ILogger logger, EndPoint endPoint, SocketError error, int delayMs);
}

/// <summary>
/// A listening socket registered on every loop (EPOLLEXCLUSIVE: one loop wakes per connection); the loop that
/// accepts a connection keeps it. Accepted connections wait in a queue for Kestrel's accept loop.
/// </summary>
internal sealed class LoopListener : IConnectionListener, IValueTaskSource<ConnectionContext?>
{
    private const int MaxBackoffMs = 1000;

    private readonly Socket _socket;
    private readonly int _fd;
    private readonly MemoryPool<byte> _pool;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Queue<LoopConnection> _accepted = new();
    private readonly HashSet<LoopConnection> _direct = [];
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Acceptor[] _acceptors;
    private ManualResetValueTaskSourceCore<ConnectionContext?> _waiter; // RunContinuationsAsynchronously false: Kestrel's accept loop runs on the loop
    private bool _waiting;
    private bool _stopped;

    public LoopListener(Socket socket, LoopEndPoint endPoint, MemoryPool<byte> pool, ILogger logger)
    {
        _socket = socket;
        _fd = (int)socket.SafeHandle.DangerousGetHandle();
        _pool = pool;
        _logger = logger;
        EndPoint = endPoint;
        var loops = IoLoop.All;
        _acceptors = new Acceptor[loops.Length];
        for (var i = 0; i < loops.Length; i++)
        {
            _acceptors[i] = new Acceptor(this, loops[i]);
            _acceptors[i].Watch();
        }
    }

    public EndPoint EndPoint { get; }

    public ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_accepted.TryDequeue(out var connection))
            {
                return new ValueTask<ConnectionContext?>(connection);
            }
            if (_stopped)
            {
                return new ValueTask<ConnectionContext?>((ConnectionContext?)null);
            }
            _waiter.Reset();
            _waiting = true;
            return new ValueTask<ConnectionContext?>(this, _waiter.Version);
        }
    }

    private void Deliver(LoopConnection connection)
    {
        if (((LoopEndPoint)EndPoint).Direct is { } direct)
        {
            _ = RunDirectAsync(connection, direct);
            return;
        }
        Enqueue(connection);
    }

    /// <summary>
    /// Runs the listener's middleware on the loop thread at once, without Kestrel's hand-off of every new connection
    /// to the thread pool (a context switch there and one back per connection). A connection that turns out to need
    /// Kestrel's HTTP server (the cleartext HTTP/2 preface) is given to Kestrel's accept loop with nothing consumed.
    /// </summary>
    private async Task RunDirectAsync(LoopConnection connection, ConnectionDelegate direct)
    {
        lock (_gate)
        {
            if (_stopped)
            {
                connection.Socket.Abort();
            }
            _direct.Add(connection);
        }
        try
        {
            await direct(connection).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // As Kestrel: a connection's failure ends that connection only.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LoopTransportFactory.LogConnectionFailed(_logger, ex, connection.ConnectionId);
        }
        bool last;
        lock (_gate)
        {
            _direct.Remove(connection);
            last = _direct.Count == 0 && _stopped;
        }
        if (connection.HandedOff)
        {
            Enqueue(connection);
        }
        else
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        if (last)
        {
            _drained.TrySetResult();
        }
    }

    private void Enqueue(LoopConnection connection)
    {
        lock (_gate)
        {
            if (_stopped)
            {
                connection.Socket.Abort();
                _ = connection.DisposeAsync();
                return;
            }
            if (!_waiting)
            {
                _accepted.Enqueue(connection);
                return;
            }
            _waiting = false;
        }
        _waiter.SetResult(connection);
    }

    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        bool wake;
        lock (_gate)
        {
            _stopped = true;
            wake = _waiting;
            _waiting = false;
        }
        if (wake)
        {
            _waiter.SetResult(null);
        }
        // Every loop stops watching before the descriptor closes (a reused number must not be removed from a loop);
        // closed, the port refuses new connections at once, as Kestrel's socket transport does when it unbinds.
        await Task.WhenAll(_acceptors.Select(a => a.StopAsync())).ConfigureAwait(false);
        _socket.Dispose();
        // Connections the loop runs itself drain as Kestrel's own do: asked to close after their request, aborted
        // when the host's shutdown timeout ends the wait.
        LoopConnection[] direct;
        lock (_gate)
        {
            direct = [.. _direct];
            if (direct.Length == 0)
            {
                _drained.TrySetResult();
            }
        }
        foreach (var connection in direct)
        {
            connection.RequestClose();
        }
        try
        {
            await _drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            foreach (var connection in direct)
            {
                connection.Socket.Abort();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await UnbindAsync().ConfigureAwait(false);
        _socket.Dispose();
        while (true)
        {
            LoopConnection? left;
            lock (_gate)
            {
                if (!_accepted.TryDequeue(out left))
                {
                    break;
                }
            }
            left.Socket.Abort();
            await left.DisposeAsync().ConfigureAwait(false);
        }
    }

    public ConnectionContext? GetResult(short token) => _waiter.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _waiter.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _waiter.OnCompleted(continuation, state, token, flags);

    /// <summary>The listening socket on one loop: accepts until the backlog is empty, backs off when out of descriptors.</summary>
    private sealed unsafe class Acceptor(LoopListener listener, IoLoop loop) : ILoopHandler
    {
        private ulong _token;
        private int _backoffMs;
        private bool _stopped;
        private ITimer? _retry;

        public void Watch() => _token = loop.Register(listener._fd, Native.EPOLLIN | Native.EPOLLEXCLUSIVE, this);

        public Task StopAsync()
        {
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            loop.Run(static s =>
            {
                var (self, done) = ((Acceptor, TaskCompletionSource))s!;
                self._stopped = true;
                self._retry?.Dispose();
                self.Unwatch();
                done.SetResult();
            }, (this, stopped));
            return stopped.Task;
        }

        private void Unwatch()
        {
            if (_token != 0)
            {
                var ev = stackalloc byte[16];
                Native.epoll_ctl(LoopEpoll(), Native.EPOLL_CTL_DEL, listener._fd, ev);
                loop.Unregister(_token);
                _token = 0;
            }
        }

        private int LoopEpoll() => loop.Descriptor;

        private IoLoop Loop => loop;

        public void OnEvents(uint events)
        {
            if (_stopped)
            {
                return;
            }
            var addr = stackalloc byte[128];
            // Level-triggered: one connection per event, so no accept ends in EAGAIN; epoll reports the listener again
            // in the next batch while connections wait, and other sockets on the loop are served in between.
            while (true)
            {
                var length = 128;
                var fd = Native.accept4(listener._fd, addr, &length, Native.SOCK_NONBLOCK | Native.SOCK_CLOEXEC);
                if (fd < 0)
                {
                    var errno = Native.Errno;
                    if (errno is Native.EMFILE or Native.ENFILE or Native.ENOBUFS or Native.ENOMEM)
                    {
                        BackOff(errno);
                        return;
                    }
                    if (errno is Native.EAGAIN)
                    {
                        return;
                    }
                    continue; // ECONNABORTED, EINTR, a peer that left: the next one
                }
                _backoffMs = 0;
                var remote = Native.ReadSockaddr(addr);
                LoopConnection connection;
                try
                {
                    connection = new LoopConnection(loop, fd, listener._pool, remote, listener.EndPoint as IPEndPoint);
                }
                catch (SocketException)
                {
                    Native.close(fd);
                    continue;
                }
                listener.Deliver(connection);
                return;
            }
        }

        /// <summary>Out of descriptors: stop watching (level-triggered readiness would spin the loop) and try again later.</summary>
        private void BackOff(int errno)
        {
            Unwatch();
            _backoffMs = Math.Clamp(_backoffMs * 2, 10, MaxBackoffMs);
            LoopTransportFactory.LogAcceptBackoff(listener._logger, listener.EndPoint, Native.Error(errno).SocketErrorCode, _backoffMs);
            _retry?.Dispose();
            _retry = TimeProvider.System.CreateTimer(static s =>
            {
                var self = (Acceptor)s!;
                self.Loop.Post(static s2 =>
                {
                    var again = (Acceptor)s2!;
                    if (!again._stopped && again._token == 0)
                    {
                        again.Watch();
                    }
                }, self);
            }, this, TimeSpan.FromMilliseconds(_backoffMs), Timeout.InfiniteTimeSpan);
        }
    }
}

/// <summary>An accepted connection on a loop, as Kestrel sees it.</summary>
internal sealed class LoopConnection : ConnectionContext, IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature,
    IConnectionLifetimeFeature, IConnectionEndPointFeature, IMemoryPoolFeature, IIoLoopFeature, IConnectionLifetimeNotificationFeature
{
    private CancellationTokenSource? _closeRequested;
    private bool _closeRequestedFired;
    private static long s_ids;

    private readonly Lock _gate = new();
    private readonly FeatureCollection _features = new();
    private readonly long _id;
    private readonly IPEndPoint? _listenerEndPoint;
    private string? _connectionId;
    private IDictionary<object, object?>? _items;
    private EndPoint? _local;
    private CancellationTokenSource? _closed;
    private bool _closedFired;
    private CancellationToken? _closedToken;

    public LoopConnection(IoLoop loop, int fd, MemoryPool<byte> pool, IPEndPoint? remote, IPEndPoint? listener)
    {
        _id = Interlocked.Increment(ref s_ids);
        MemoryPool = pool;
        RemoteEndPoint = remote;
        _listenerEndPoint = listener;
        Socket = LoopSocket.Accepted(loop, fd, pool, static s => ((LoopConnection)s!).FireClosed(), this);
        Transport = Socket;
        _features.Set<IConnectionIdFeature>(this);
        _features.Set<IConnectionTransportFeature>(this);
        _features.Set<IConnectionItemsFeature>(this);
        _features.Set<IConnectionLifetimeFeature>(this);
        _features.Set<IConnectionEndPointFeature>(this);
        _features.Set<IMemoryPoolFeature>(this);
        _features.Set<IIoLoopFeature>(this);
    }

    /// <summary>Given to Kestrel's accept loop after the loop ran the middleware (<see cref="IIoLoopFeature.HandOff"/>).</summary>
    public bool HandedOff { get; private set; }

    /// <summary>The loop runs this connection's middleware itself; Kestrel does not know it.</summary>
    public bool Direct => !HandedOff && ((LoopEndPoint?)_listenerEndPoint)?.Direct is not null;

    public bool HandOff()
    {
        if (!Direct)
        {
            return false;
        }
        HandedOff = true;
        _features.Set<IConnectionLifetimeNotificationFeature>(null); // Kestrel's connection brings its own
        return true;
    }

    public CancellationToken ConnectionClosedRequested
    {
        get
        {
            lock (_gate)
            {
                _closeRequested ??= new CancellationTokenSource();
                if (_closeRequestedFired)
                {
                    _closeRequested.Cancel();
                }
                return _closeRequested.Token;
            }
        }
        set { }
    }

    public void RequestClose()
    {
        CancellationTokenSource? requested;
        lock (_gate)
        {
            _closeRequestedFired = true;
            requested = _closeRequested;
        }
        requested?.Cancel();
    }

    public IoLoop Loop => Socket.Loop;

    public LoopSocket Socket { get; }

    public override string ConnectionId
    {
        get => _connectionId ??= "lb-loop-" + _id.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        set => _connectionId = value;
    }

    public override IFeatureCollection Features => _features;

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new Dictionary<object, object?>();
        set => _items = value;
    }

    public override System.IO.Pipelines.IDuplexPipe Transport { get; set; }

    public MemoryPool<byte> MemoryPool { get; }

    public override EndPoint? RemoteEndPoint { get; set; }

    public override EndPoint? LocalEndPoint
    {
        get => _local ??= _listenerEndPoint is { } l && !l.Address.Equals(IPAddress.Any) && !l.Address.Equals(IPAddress.IPv6Any) ? new IPEndPoint(l.Address, l.Port) : QueryLocal();
        set => _local = value;
    }

    private unsafe EndPoint? QueryLocal()
    {
        var addr = stackalloc byte[128];
        var length = 128;
        var fd = Socket.Descriptor;
        return fd >= 0 && Native.getsockname(fd, addr, &length) == 0 ? Native.ReadSockaddr(addr) : null;
    }

    /// <summary>Created on first use: the fast path never asks for it, Kestrel's HTTP stack does.</summary>
    public override CancellationToken ConnectionClosed
    {
        get
        {
            if (_closedToken is { } token)
            {
                return token;
            }
            lock (_gate)
            {
                _closed ??= new CancellationTokenSource();
                if (_closedFired)
                {
                    _closed.Cancel();
                }
                return _closed.Token;
            }
        }
        set => _closedToken = value;
    }

    private void FireClosed()
    {
        CancellationTokenSource? closed;
        lock (_gate)
        {
            _closedFired = true;
            closed = _closed;
        }
        if (closed is not null)
        {
            // As Kestrel's transport: callbacks (request aborts) run off the I/O thread.
            ThreadPool.UnsafeQueueUserWorkItem(static c => ((CancellationTokenSource)c!).Cancel(), closed);
        }
    }

    public override void Abort(ConnectionAbortedException abortReason) => Socket.Abort();

    public override async ValueTask DisposeAsync()
    {
        await Socket.DisposeAsync(graceful: true).ConfigureAwait(false);
        FireClosed();
    }
}
