using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace Lb.AspNetCore.FastPath.Loop;

/// <summary>
/// A nonblocking TCP socket on an <see cref="IoLoop"/> as two pipes, registered edge-triggered once for its life.
/// The receive side reads until a short read and then waits for epoll to report new data, instead of trying a
/// receive that fails with EAGAIN (what the runtime's socket engine does after every drained read). Sends are tried
/// at once and wait for EPOLLOUT only when the kernel's buffer is full. Pipe continuations run inline: on the loop
/// thread for everything the loop wakes.
/// </summary>
internal sealed class LoopSocket : IUpstreamTransport, ILoopHandler
{
    private static readonly TimeSpan FlushOnCloseTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// At most about this much is read before a flush. Back-pressure holds: a flush past the pipe's pause threshold
    /// waits for the reader, so a connection holds at most the threshold plus this much.
    /// </summary>
    private const int GatherBytes = 128 * 1024;

    private readonly IoLoop _loop;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly Readiness _readable = new();
    private readonly Readiness _writable = new();
    private readonly Lock _gate = new();
    private readonly int _fd;
    private ulong _token;
    private bool _closed;
    private bool _shutdown;
    private bool _closing;
    private bool _disposing;
    private Task _receiving = Task.CompletedTask;
    private Task _sending = Task.CompletedTask;

    private LoopSocket(IoLoop loop, int fd, MemoryPool<byte> pool)
    {
        _loop = loop;
        _fd = fd;
        var options = new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.Inline, pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024,
            minimumSegmentSize: BlockPool.BlockSize, useSynchronizationContext: false);
        _input = new Pipe(options);
        _output = new Pipe(options);
    }

    public PipeReader Input => _input.Reader;

    public PipeWriter Output => _output.Writer;

    /// <summary>The descriptor while open, else -1.</summary>
    public int Descriptor
    {
        get
        {
            lock (_gate)
            {
                return _closed ? -1 : _fd;
            }
        }
    }

    /// <summary>Closes the connection without waiting for queued output (an upstream connection given up).</summary>
    public ValueTask CloseAsync() => DisposeAsync(graceful: false);

    /// <summary>The loop this socket's events arrive on.</summary>
    public IoLoop Loop => _loop;

    /// <summary>Called when the receive side ends (end of stream or error), before the input completes.</summary>
    public Action<object?>? ReceiveEnded { get; set; }

    public object? ReceiveEndedState { get; set; }

    /// <summary>An accepted (client) connection rather than an upstream one.</summary>
    public bool ClientSide { get; private init; }

    /// <summary>Takes over an accepted nonblocking descriptor and starts both directions.</summary>
    public static LoopSocket Accepted(IoLoop loop, int fd, MemoryPool<byte> pool, Action<object?>? receiveEnded, object? state)
    {
        var socket = new LoopSocket(loop, fd, pool) { ReceiveEnded = receiveEnded, ReceiveEndedState = state, ClientSide = true };
        socket.Register();
        socket.Start();
        return socket;
    }

    /// <summary>Connects to <paramref name="endPoint"/> on <paramref name="loop"/>; a SocketException when refused, OperationCanceledException at the timeout.</summary>
    public static async ValueTask<LoopSocket> ConnectAsync(IoLoop loop, IPEndPoint endPoint, MemoryPool<byte> pool, TimeSpan timeout)
    {
        var family = endPoint.AddressFamily == AddressFamily.InterNetwork ? Native.AF_INET : Native.AF_INET6;
        var fd = Native.socket(family, Native.SOCK_STREAM | Native.SOCK_NONBLOCK | Native.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw Native.Error(Native.Errno);
        }
        var socket = new LoopSocket(loop, fd, pool);
        try
        {
            Native.SetNoDelay(fd);
            var errno = StartConnect(fd, endPoint);
            if (errno != 0 && errno != Native.EINPROGRESS)
            {
                throw Native.Error(errno);
            }
            socket.Register();
            await socket.WaitConnectedAsync(timeout).ConfigureAwait(false);
        }
        catch
        {
            socket.CloseDescriptor();
            throw;
        }
        socket.Start();
        return socket;
    }

    private static unsafe int StartConnect(int fd, IPEndPoint endPoint)
    {
        var addr = stackalloc byte[128];
        var length = Native.WriteSockaddr(endPoint, addr);
        return Native.connect(fd, addr, length) == 0 ? 0 : Native.Errno;
    }

    private static unsafe int PendingError(int fd)
    {
        int error;
        var size = sizeof(int);
        return Native.getsockopt(fd, Native.SOL_SOCKET, Native.SO_ERROR, (byte*)&error, &size) == 0 ? error : Native.Errno;
    }

    private static unsafe nint Receive(int fd, Memory<byte> memory)
    {
        fixed (byte* p = memory.Span)
        {
            return Native.recv(fd, p, memory.Length, 0);
        }
    }

    private static unsafe nint Send(int fd, ReadOnlyMemory<byte> memory)
    {
        fixed (byte* p = memory.Span)
        {
            return Native.send(fd, p, memory.Length, Native.MSG_NOSIGNAL);
        }
    }

    private async ValueTask WaitConnectedAsync(TimeSpan timeout)
    {
        using (var timer = new CancellationTokenSource(timeout))
        using (timer.Token.UnsafeRegister(static s => ((LoopSocket)s!)._writable.Signal(), this))
        {
            await _writable.WaitAsync().ConfigureAwait(false);
            if (timer.IsCancellationRequested)
            {
                throw new OperationCanceledException("connect timeout");
            }
        }
        var error = PendingError(_fd);
        if (error != 0)
        {
            throw Native.Error(error);
        }
    }

    private void Register() =>
        _token = _loop.Register(_fd, Native.EPOLLIN | Native.EPOLLOUT | Native.EPOLLRDHUP | Native.EPOLLET, this);

    private void Start()
    {
        _receiving = ReceiveAsync();
        _sending = SendAsync();
    }

    public void OnEvents(uint events)
    {
        if ((events & (Native.EPOLLIN | Native.EPOLLRDHUP | Native.EPOLLHUP | Native.EPOLLERR)) != 0)
        {
            _readable.Signal();
        }
        if ((events & (Native.EPOLLOUT | Native.EPOLLHUP | Native.EPOLLERR)) != 0)
        {
            _writable.Signal();
        }
    }

    private async Task ReceiveAsync()
    {
        var writer = _input.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                if (!_readable.TryConsume())
                {
                    await _readable.WaitAsync().ConfigureAwait(false);
                }
                if (Volatile.Read(ref _closing))
                {
                    break; // DisposeAsync woke this loop to end it, no shutdown needed
                }
                // Read until a short read: then the queue is empty and epoll will say when more arrives. A full buffer
                // means more is likely queued: it is read too (up to GatherBytes) before one flush, so the reader
                // passes a 64 KiB body on in one send instead of one per block (each send wakes the peer).
                var gathered = 0;
                while (true)
                {
                    var memory = writer.GetMemory(gathered == 0 ? BlockPool.BlockSize : GatherBytes / 2);
                    var received = Receive(_fd, memory);
                    if (received > 0)
                    {
                        writer.Advance((int)received);
                        gathered += (int)received;
                        if (received == memory.Length && gathered < GatherBytes)
                        {
                            continue;
                        }
                        gathered = 0;
                        var flush = await writer.FlushAsync().ConfigureAwait(false);
                        if (flush.IsCompleted || flush.IsCanceled)
                        {
                            goto done;
                        }
                        if (received < memory.Length)
                        {
                            break;
                        }
                        continue;
                    }
                    var errno = received == 0 ? 0 : Native.Errno;
                    if (gathered > 0 && errno != Native.EINTR)
                    {
                        // What was gathered goes to the reader before the end of stream, the error or the wait.
                        gathered = 0;
                        var flush = await writer.FlushAsync().ConfigureAwait(false);
                        if (flush.IsCompleted || flush.IsCanceled)
                        {
                            goto done;
                        }
                    }
                    if (received == 0)
                    {
                        goto done;
                    }
                    if (errno == Native.EAGAIN)
                    {
                        break;
                    }
                    if (errno != Native.EINTR)
                    {
                        error = Volatile.Read(ref _shutdown) ? null : Native.Error(errno);
                        goto done;
                    }
                }
            }
        done:;
        }
        catch (Exception ex) when (ex is InvalidOperationException)
        {
            error = ex; // the input was completed under us
        }
        if (ReceiveEnded is { } ended)
        {
            ended(ReceiveEndedState);
        }
        // The client side fails reads as Kestrel's transport does (ConnectionResetException); upstream reads as sockets do.
        await writer.CompleteAsync(error is null || !ClientSide ? error : new Microsoft.AspNetCore.Connections.ConnectionResetException(error.Message, error)).ConfigureAwait(false);
    }

    private async Task SendAsync()
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    break;
                }
                var buffer = result.Buffer;
                var failed = false;
                foreach (var segment in buffer)
                {
                    var sent = 0;
                    while (sent < segment.Length)
                    {
                        var n = Send(_fd, segment[sent..]);
                        if (n >= 0)
                        {
                            sent += (int)n;
                            continue;
                        }
                        var errno = Native.Errno;
                        if (errno == Native.EAGAIN)
                        {
                            // A stale event costs one more try; a fresh one means room was made after this attempt.
                            await _writable.WaitAsync().ConfigureAwait(false);
                            continue;
                        }
                        if (errno != Native.EINTR)
                        {
                            failed = true;
                            break;
                        }
                    }
                    if (failed)
                    {
                        break;
                    }
                }
                reader.AdvanceTo(buffer.End);
                if (failed || result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException)
        {
        }
        await reader.CompleteAsync().ConfigureAwait(false);
        lock (_gate)
        {
            // The application ended its output but may still read (a half-close the peer must see); when the socket
            // is being disposed, close(2) sends the FIN itself.
            if (!_closed && !Volatile.Read(ref _disposing))
            {
                Native.shutdown(_fd, Native.SHUT_WR);
            }
        }
    }

    /// <summary>Ends both directions now (unsent data is dropped); the descriptor closes in <see cref="DisposeAsync"/>.</summary>
    public void Abort()
    {
        lock (_gate)
        {
            if (!_closed)
            {
                Volatile.Write(ref _shutdown, true);
                Native.shutdown(_fd, Native.SHUT_RDWR); // wakes both directions through epoll (HUP)
            }
        }
        _output.Reader.CancelPendingRead();
    }

    /// <summary>
    /// Completes this side of both pipes, waits for queued output to be sent (<paramref name="graceful"/>) or drops
    /// it, ends the connection and closes the descriptor once neither direction can touch it.
    /// </summary>
    public async ValueTask DisposeAsync(bool graceful)
    {
        Volatile.Write(ref _disposing, true);
        await _input.Reader.CompleteAsync().ConfigureAwait(false);
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        if (graceful && !_sending.IsCompleted)
        {
            // Queued output gets a bounded time: a client that never reads must not hold the descriptor forever.
            try
            {
                await _sending.WaitAsync(FlushOnCloseTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
        if (graceful && _sending.IsCompleted)
        {
            // Output is sent and shut down: end the receive loop from here (no shutdown(2) for it); close(2) does the rest.
            Volatile.Write(ref _closing, true);
            _readable.Signal();
        }
        else
        {
            Abort();
        }
        await _sending.ConfigureAwait(false);
        await _receiving.ConfigureAwait(false);
        CloseDescriptor();
    }

    private void CloseDescriptor()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }
            _closed = true;
            Native.close(_fd);
        }
        if (_token != 0)
        {
            _loop.Unregister(_token);
        }
    }

    /// <summary>
    /// Edge-triggered readiness for one direction, and its single waiter. States: 0 nothing known, 1 an event came
    /// that nobody consumed, 2 a waiter is parked.
    /// </summary>
    private sealed class Readiness : IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _core; // RunContinuationsAsynchronously false: the waiter runs on the signalling thread
        private int _state;

        /// <summary>True (and forgets it) when an event came since the last wait.</summary>
        public bool TryConsume() => Interlocked.CompareExchange(ref _state, 0, 1) == 1;

        public ValueTask WaitAsync()
        {
            _core.Reset();
            if (Interlocked.CompareExchange(ref _state, 2, 0) == 1)
            {
                Volatile.Write(ref _state, 0); // the event came first: go on at once
                return default;
            }
            return new ValueTask(this, _core.Version);
        }

        public void Signal()
        {
            while (true)
            {
                var state = Volatile.Read(ref _state);
                if (state == 1)
                {
                    return;
                }
                if (state == 2)
                {
                    if (Interlocked.CompareExchange(ref _state, 0, 2) == 2)
                    {
                        _core.SetResult(true);
                        return;
                    }
                    continue;
                }
                if (Interlocked.CompareExchange(ref _state, 1, 0) == 0)
                {
                    return;
                }
            }
        }

        public void GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
