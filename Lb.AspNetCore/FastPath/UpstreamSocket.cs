using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace Lb.AspNetCore.FastPath;

/// <summary>
/// An upstream connection as two pipes over a socket: one receive loop and one send loop for the connection's
/// lifetime, buffers from <see cref="BlockPool"/>. Replaces Kestrel's socket connection factory, whose pool kept
/// allocating 4 KiB blocks under steady load (measured: ~1.4 KB per proxied request).
/// </summary>
internal sealed class UpstreamSocket : IUpstreamTransport
{
    private readonly Socket _socket;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly Task _receiving;
    private readonly Task _sending;

    /// <summary>
    /// At most about this much is received before a flush: a 64 KiB body with its head in one send. Back-pressure holds:
    /// a flush past the pipe's pause threshold waits for the proxy to pass the bytes on, so a connection holds at most
    /// the threshold plus this much.
    /// </summary>
    private const int GatherBytes = 128 * 1024;

    public UpstreamSocket(Socket socket, BlockPool pool)
    {
        _socket = socket;
        // Only the managed flag for the synchronous calls: a Receive that finds nothing returns WouldBlock instead of
        // waiting (the gathering receive below); asynchronous calls are unaffected.
        _socket.Blocking = false;
        // Inline schedulers: the proxy's reader resumes on the receive loop's thread (it never blocks), no work item per read.
        var options = new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.Inline, pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024,
            minimumSegmentSize: BlockPool.BlockSize, useSynchronizationContext: false);
        _input = new Pipe(options);
        _output = new Pipe(options);
        _receiving = ReceiveAsync();
        _sending = SendAsync();
    }

    public PipeReader Input => _input.Reader;

    public PipeWriter Output => _output.Writer;

    private async Task ReceiveAsync()
    {
        var writer = _input.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                var memory = writer.GetMemory(BlockPool.BlockSize);
                var received = await _socket.ReceiveAsync(memory, SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }
                writer.Advance(received);
                // A full buffer means the socket likely holds more: take what is already there (non-blocking, up to
                // GatherBytes) before one flush, so the proxy writes it to the client in one send; a send per 16 KiB
                // block wakes the client per block (the kernel time HAProxy avoids with MSG_MORE).
                var gathered = received;
                var ended = false;
                while (received == memory.Length && gathered < GatherBytes)
                {
                    // Above the pool's block size the pipe lends from the shared array pool: one receive takes the rest.
                    memory = writer.GetMemory(GatherBytes / 2);
                    received = _socket.Receive(memory.Span, SocketFlags.None, out var status);
                    if (status != SocketError.Success)
                    {
                        if (status == SocketError.WouldBlock)
                        {
                            break;
                        }
                        throw new SocketException((int)status);
                    }
                    if (received == 0)
                    {
                        ended = true;
                        break;
                    }
                    writer.Advance(received);
                    gathered += received;
                }
                var flush = await writer.FlushAsync().ConfigureAwait(false);
                if (ended || flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            error = ex is SocketException { SocketErrorCode: SocketError.OperationAborted } or ObjectDisposedException ? null : ex;
        }
        await writer.CompleteAsync(error).ConfigureAwait(false);
    }

    private async Task SendAsync()
    {
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    break;
                }
                foreach (var segment in buffer)
                {
                    var sent = 0;
                    while (sent < segment.Length)
                    {
                        sent += await _socket.SendAsync(segment[sent..], SocketFlags.None).ConfigureAwait(false);
                    }
                }
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        await reader.CompleteAsync().ConfigureAwait(false);
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    public ValueTask CloseAsync() => DisposeAsync();

    /// <summary>Closes the socket and waits for both loops.</summary>
    public async ValueTask DisposeAsync()
    {
        await _input.Reader.CompleteAsync().ConfigureAwait(false);
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _receiving.ConfigureAwait(false);
        await _sending.ConfigureAwait(false);
    }
}

/// <summary>An upstream connection's byte streams: <see cref="UpstreamSocket"/>, or a <see cref="Loop.LoopSocket"/> on the client's I/O loop.</summary>
internal interface IUpstreamTransport : IDuplexPipe
{
    /// <summary>Closes the connection and waits until nothing uses it.</summary>
    ValueTask CloseAsync();
}

/// <summary>
/// Pinned 16 KiB blocks, kept for reuse (no eviction): the steady state allocates nothing. 16 KiB rather than Kestrel's
/// 4: a 64 KiB response takes 4 receives instead of 16; an idle pooled connection holds one block.
/// </summary>
internal sealed class BlockPool : MemoryPool<byte>
{
    public const int BlockSize = 16 * 1024;
    private const int MaxKept = 8 * 1024;

    private readonly Lock _gate = new();
    private Block[] _free = new Block[256];
    private int _count;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
        {
            return MemoryPool<byte>.Shared.Rent(minBufferSize);
        }
        lock (_gate)
        {
            if (_count > 0)
            {
                var block = _free[--_count];
                _free[_count] = null!;
                return block;
            }
        }
        return new Block(this);
    }

    private void Return(Block block)
    {
        lock (_gate)
        {
            if (_count < MaxKept)
            {
                if (_count == _free.Length)
                {
                    Array.Resize(ref _free, _free.Length * 2);
                }
                _free[_count++] = block;
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block(BlockPool pool) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);

        public void Dispose() => pool.Return(this);
    }
}
