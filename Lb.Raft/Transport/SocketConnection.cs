using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Lb.Raft.Transport;

/// <summary>
/// One Raft TCP connection as the connection abstraction DotNext's custom transport takes: pipes over the socket's
/// stream. <see cref="PeerClosed"/> runs when the peer ends the connection (end of stream or a reset while reading or
/// writing), not when this side closes it.
/// </summary>
internal sealed class SocketConnection : ConnectionContext, IDisposable
{
    /// <summary>The pipes' segment size: DotNext takes it as its transmission block (the TCP transport's was 64 KiB).</summary>
    private const int BlockSize = 64 * 1024;

    private readonly ObservedStream _stream;
    private readonly CancellationTokenSource _closed = new();
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private int _disposed;

    /// <param name="socket">The connected socket (owned by the connection).</param>
    /// <param name="secured">A TLS stream over the socket, already authenticated; null: plain TCP.</param>
    public SocketConnection(Socket socket, Stream? secured = null)
    {
        _stream = new ObservedStream(secured ?? new NetworkStream(socket, ownsSocket: true), this);
        _input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: BlockSize, minimumReadSize: 1024, leaveOpen: true));
        _output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: BlockSize, leaveOpen: true));
        Transport = new DuplexPipe(_input, _output);
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        ConnectionClosed = _closed.Token;
    }

    /// <summary>Runs once when the peer ends the connection.</summary>
    public Action? PeerClosed { get; set; }

    /// <summary>Sees every byte sent and received (pre-votes, for <see cref="PreVoteTieBreak"/>); null: none.</summary>
    public PreVoteWatch? Watch { get; set; }

    public override string ConnectionId { get; set; } = Guid.NewGuid().ToString("N");

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override void Abort(ConnectionAbortedException abortReason) => Dispose();

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _stream.ClosingLocally();
        // The socket goes first: completing the writer flushes what is still buffered, and a synchronous write to a
        // dead peer with a full send buffer would block; on a closed socket it fails at once. DotNext flushes every
        // request and response itself, so nothing of value is buffered here.
        _stream.Dispose();
        try
        {
            _output.Complete();
            _input.Complete();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The buffered rest had nowhere to go.
        }
        _closed.Cancel();
        _closed.Dispose();
    }

    public override ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    /// <summary>Passes reads and writes through and reports when the peer, not this side, ended the stream.</summary>
    private sealed class ObservedStream(Stream inner, SocketConnection owner) : Stream
    {
        private volatile bool _local;
        private int _reported;

        public void ClosingLocally() => _local = true;

        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (read == 0 && buffer.Length > 0)
                {
                    Report();
                }
                else
                {
                    owner.Watch?.Received(buffer.Span[..read]);
                }
                return read;
            }
            catch (IOException)
            {
                Report();
                throw;
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            // Outside the try: a request the tie-break refuses to send says nothing about the peer.
            if (owner.Watch?.Writing(buffer.Span) == true)
            {
                var refusal = buffer.ToArray(); // rare: a pre-vote answer turned into a refusal
                refusal[^1] = PreVoteWatch.Refused;
                buffer = refusal;
            }
            try
            {
                await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                Report();
                throw;
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }

        private void Report()
        {
            if (!_local && owner.PeerClosed is { } peerClosed && Interlocked.Exchange(ref _reported, 1) == 0)
            {
                peerClosed();
            }
        }
    }
}
